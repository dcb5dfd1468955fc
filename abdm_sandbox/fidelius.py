"""The sandbox's own Fidelius: ABDM's encryption of health information between an HIP and the HIU that asked.

Written from the sources, independently of the portal's abdm/fidelius.py (the two must agree; a test proves it):

- mgrmtech/fidelius-cli (the reference NHA's guidelines point to, Java on BouncyCastle): keys on BouncyCastle's
  CustomNamedCurves "curve25519", i.e. Curve25519 written in short Weierstrass form. A public key travels as the
  uncompressed point 04 || X || Y (65 bytes, 88 base64 characters; `keyValue`'s example in
  consent-management-data-flow.yaml, "BFN7KT...", is one) or as BouncyCastle's X.509 SubjectPublicKeyInfo with the
  explicit curve parameters; a private key is `BigInteger.toByteArray()` (big-endian two's complement).
  Shared secret: ECDH, the affine X of d·Q as 32 big-endian bytes. The two 32-byte nonces are XORed: salt = the
  first 20 bytes, IV = the last 12. AES key = HKDF-SHA256(shared secret, salt, no info, 32 bytes); AES-256-GCM,
  128-bit tag appended; base64.
- NHA's "Encryption and Decryption Implementation Guidelines for FHIR data in ABDM" (in fidelius-cli/abdm/):
  the same steps, and "public keys should be uncompressed ... starting with the 04 prefix".

How this module computes: Montgomery form. Curve25519 is v² = u³ + 486662·u² + u; its Weierstrass form has
X = u + 486662/3 and Y = v. Scalar multiplication is the x-only Montgomery ladder of RFC 7748 section 5 (without
X25519's clamping: Fidelius uses the scalar as it is), and the Y of a public key is recovered with Okeya and
Sakurai's formula (Costello and Smith, "Montgomery curves and their arithmetic", algorithm 5).
The sandbox uses fresh keys per transfer; plain Python integers are not constant-time, which a sandbox can afford.
"""

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CRYPTO_ALG = "ECDH"
CURVE = "Curve25519"
PARAMETERS = "Curve25519/32byte random key"

PRIME = 2**255 - 19
MONTGOMERY_A = 486662
ORDER = 2**252 + 27742317777372353535851937790883648493  # of the base point; the cofactor is 8
BASE_U = 9
# RFC 7748 section 4.1: the v of the base point u = 9.
BASE_V = 14781619447589544791020593568409986887264606134616475288964881837755586237401
_SHIFT = MONTGOMERY_A * pow(3, -1, PRIME) % PRIME  # X = u + A/3
WEIERSTRASS_A = (3 - MONTGOMERY_A**2) * pow(3, -1, PRIME) % PRIME
WEIERSTRASS_B = (2 * MONTGOMERY_A**3 - 9 * MONTGOMERY_A) * pow(27, -1, PRIME) % PRIME
_A24 = (MONTGOMERY_A - 2) // 4
_SCALAR_BITS = 256
# id-ecPublicKey (1.2.840.10045.2.1) and prime-field (1.2.840.10045.1.1), DER-encoded.
_OID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")
_OID_PRIME_FIELD = bytes.fromhex("2a8648ce3d0101")


class FideliusError(ValueError):
    """Key material or ciphertext that the scheme cannot use."""


@dataclass(frozen=True)
class KeyPair:
    private_key: int
    public_key: str  # base64 of 04 || X || Y
    nonce: str  # base64 of 32 random bytes


# --- the ladder ------------------------------------------------------------------------------------------------


def _ladder(scalar: int, u: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """RFC 7748's ladder: ((X:Z) of scalar·P, (X:Z) of (scalar+1)·P) for the point P with u-coordinate `u`."""
    x1 = u % PRIME
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    for t in reversed(range(_SCALAR_BITS)):
        bit = (scalar >> t) & 1
        if swap ^ bit:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % PRIME, (x2 - z2) % PRIME
        aa, bb = a * a % PRIME, b * b % PRIME
        e = (aa - bb) % PRIME
        c, d = (x3 + z3) % PRIME, (x3 - z3) % PRIME
        da, cb = d * a % PRIME, c * b % PRIME
        x3, z3 = (da + cb) ** 2 % PRIME, x1 * (da - cb) ** 2 % PRIME
        x2, z2 = aa * bb % PRIME, e * (aa + _A24 * e) % PRIME
    if swap:
        x2, x3, z2, z3 = x3, x2, z3, z2
    return (x2, z2), (x3, z3)


def _u_of(scalar: int, u: int) -> int | None:
    """The u-coordinate of scalar·P (None: the point at infinity)."""
    (x, z), _ = _ladder(scalar, u)
    return None if z == 0 else x * pow(z, -1, PRIME) % PRIME


def _multiply_base(scalar: int) -> tuple[int, int]:
    """scalar·G as Weierstrass (X, Y): the ladder, then Y by Okeya-Sakurai recovery."""
    (xq, zq), (xr, zr) = _ladder(scalar, BASE_U)
    if zq == 0:
        raise FideliusError("The private key gives the point at infinity.")
    xp, yp, a = BASE_U, BASE_V, MONTGOMERY_A
    v1 = xp * zq % PRIME
    v2 = (xq + v1) % PRIME
    v3 = (xq - v1) ** 2 % PRIME * xr % PRIME
    v1 = 2 * a * zq % PRIME
    v2 = (v2 + v1) % PRIME
    v4 = (xp * xq + zq) % PRIME
    v2 = v2 * v4 % PRIME
    v1 = v1 * zq % PRIME
    v2 = (v2 - v1) * zr % PRIME
    y = (v2 - v3) % PRIME
    v1 = 2 * yp * zq % PRIME * zr % PRIME
    x, z = v1 * xq % PRIME, v1 * zq % PRIME
    inverse = pow(z, -1, PRIME)
    u, v = x * inverse % PRIME, y * inverse % PRIME
    return ((u + _SHIFT) % PRIME, v)


# --- encodings -------------------------------------------------------------------------------------------------


def _base64(value, what: str) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise FideliusError(f"The {what} is missing.")
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise FideliusError(f"The {what} is not base64.") from None


def encode_public_key(x: int, y: int) -> str:
    return base64.b64encode(b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")).decode()


def _der(data: bytes, at: int) -> tuple[int, bytes, int]:
    """One DER element at `at`: (tag, contents, offset after it)."""
    if at + 2 > len(data):
        raise FideliusError("The X.509 public key is truncated.")
    tag, length, at = data[at], data[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 2 or at + count > len(data):
            raise FideliusError("The X.509 public key has a bad length.")
        length, at = int.from_bytes(data[at : at + count], "big"), at + count
    if at + length > len(data):
        raise FideliusError("The X.509 public key is truncated.")
    return tag, data[at : at + length], at + length


def _children(contents: bytes) -> list[tuple[int, bytes]]:
    found, at = [], 0
    while at < len(contents):
        tag, value, at = _der(contents, at)
        found.append((tag, value))
    return found


def _point_from_x509(raw: bytes) -> bytes:
    """The uncompressed point inside BouncyCastle's SubjectPublicKeyInfo, after checking that its explicit
    parameters are Curve25519's (prime, a, b, base point, order)."""
    tag, spki, end = _der(raw, 0)
    if tag != 0x30 or end != len(raw):
        raise FideliusError("The public key is neither a 65-byte point nor X.509.")
    parts = _children(spki)
    if len(parts) != 2 or parts[0][0] != 0x30 or parts[1][0] != 0x03:
        raise FideliusError("The X.509 public key is not a SubjectPublicKeyInfo.")
    algorithm = _children(parts[0][1])
    if len(algorithm) != 2 or algorithm[0] != (0x06, _OID_EC_PUBLIC_KEY) or algorithm[1][0] != 0x30:
        raise FideliusError("The X.509 public key is not an EC key with explicit parameters.")
    params = _children(algorithm[1][1])
    try:
        field, curve, base, order = _children(params[1][1]), _children(params[2][1]), params[3][1], params[4][1]
    except IndexError:
        raise FideliusError("The X.509 public key's curve parameters are incomplete.") from None
    expected_base = base64.b64decode(encode_public_key((BASE_U + _SHIFT) % PRIME, BASE_V))
    same = (
        field[0] == (0x06, _OID_PRIME_FIELD)
        and int.from_bytes(field[1][1], "big") == PRIME
        and int.from_bytes(curve[0][1], "big") == WEIERSTRASS_A
        and int.from_bytes(curve[1][1], "big") == WEIERSTRASS_B
        and base == expected_base
        and int.from_bytes(order, "big") == ORDER
    )
    if not same:
        raise FideliusError("The X.509 public key is not on Curve25519.")
    bits = parts[1][1]
    if not bits or bits[0] != 0:
        raise FideliusError("The X.509 public key's bit string is malformed.")
    return bits[1:]


def decode_public_key(value) -> tuple[int, int]:
    """A peer's public key (uncompressed point or X.509) as Weierstrass (X, Y), refused (FideliusError) unless it
    is a point of Curve25519's prime-order group."""
    raw = _base64(value, "public key")
    if len(raw) != 65:
        raw = _point_from_x509(raw)
    if len(raw) != 65 or raw[0] != 0x04:
        raise FideliusError("The public key is not an uncompressed point (65 bytes starting 04).")
    x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")
    if x >= PRIME or y >= PRIME or (y * y - x**3 - WEIERSTRASS_A * x - WEIERSTRASS_B) % PRIME:
        raise FideliusError("The public key is not a point of Curve25519.")
    u = (x - _SHIFT) % PRIME
    if _u_of(8, u) is None or _u_of(ORDER, u) is not None:
        raise FideliusError("The public key is not in Curve25519's prime-order group.")
    return x, y


def decode_private_key(value) -> int:
    """`BigInteger(bytes)` of a base64 private key."""
    scalar = int.from_bytes(_base64(value, "private key"), "big", signed=True)
    if not 0 < scalar < ORDER:
        raise FideliusError("The private key is out of range.")
    return scalar


def encode_private_key(scalar: int) -> str:
    """As `BigInteger.toByteArray()`: the shortest big-endian two's complement."""
    length = scalar.bit_length() // 8 + 1
    return base64.b64encode(scalar.to_bytes(length, "big", signed=True)).decode()


def decode_nonce(value) -> bytes:
    nonce = _base64(value, "nonce")
    if len(nonce) != 32:
        raise FideliusError("The nonce must be 32 bytes (base64).")
    return nonce


def public_key_of(private_key: int) -> str:
    return encode_public_key(*_multiply_base(private_key))


def new_key_pair() -> KeyPair:
    """A fresh key pair and nonce for one health-information request or transfer."""
    scalar = 0
    while not 0 < scalar < ORDER:
        scalar = int.from_bytes(os.urandom(32), "big") >> 3  # below 2**253, then reduced
        scalar %= ORDER
    return KeyPair(
        private_key=scalar, public_key=public_key_of(scalar), nonce=base64.b64encode(os.urandom(32)).decode()
    )


# --- the scheme ------------------------------------------------------------------------------------------------


def _session(private_key: int, peer_public_key: str, own_nonce: str, peer_nonce: str) -> tuple[bytes, bytes]:
    """(AES key, IV) of a session between `private_key` and the peer's key, from both nonces."""
    x, _ = decode_public_key(peer_public_key)
    u = _u_of(private_key, (x - _SHIFT) % PRIME)
    if u is None:
        raise FideliusError("The key agreement gives the point at infinity.")
    shared = ((u + _SHIFT) % PRIME).to_bytes(32, "big")
    mixed = bytes(a ^ b for a, b in zip(decode_nonce(own_nonce), decode_nonce(peer_nonce), strict=True))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=mixed[:20], info=None).derive(shared)
    return key, mixed[-12:]


def encrypt(plaintext: str, *, private_key: int, nonce: str, peer_public_key: str, peer_nonce: str) -> str:
    """Base64 AES-GCM ciphertext (tag appended) of `plaintext` from the holder of `private_key` to the peer."""
    key, iv = _session(private_key, peer_public_key, nonce, peer_nonce)
    return base64.b64encode(AESGCM(key).encrypt(iv, plaintext.encode("utf-8"), None)).decode()


def decrypt(ciphertext: str, *, private_key: int, nonce: str, peer_public_key: str, peer_nonce: str) -> str:
    """The plaintext a peer encrypted for the holder of `private_key`; FideliusError when it does not open."""
    key, iv = _session(private_key, peer_public_key, nonce, peer_nonce)
    try:
        return AESGCM(key).decrypt(iv, _base64(ciphertext, "ciphertext"), None).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise FideliusError("The data does not decrypt with this key material.") from None
