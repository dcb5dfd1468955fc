"""Fidelius: how ABDM encrypts health information between an HIP and the HIU that asked for it.

What the published material says, and how this module reads it:

- The HIU's health-information request carries `keyMaterial {cryptoAlg: "ECDH", curve: "curve25519",
  dhPublicKey {expiry, parameters, keyValue}, nonce}`; the HIP's data push answers with its own keyMaterial
  (`parameters` "Curve25519/32byte random key") and entries whose `content` is the encrypted FHIR bundle
  (NHA's consent-management-data-flow.yaml, `/api/v3/hip/health-information/request` and
  `/health-information/transfer`).
- The curve is BouncyCastle's "curve25519": Curve25519 in short Weierstrass form (y² = x³ + ax + b over
  p = 2²⁵⁵ - 19, the same group as X25519), not RFC 7748's X25519 with 32-byte u-coordinates. ABDM's reference
  implementation (mgrmtech/fidelius-cli, Java on BouncyCastle) and the Python peers that interoperate with it
  (dimagi/pyfidelius as used by dimagi abdm-python-integrator, ohcnetwork/care_abdm abdm/utils/fidelius.py) all
  encode a public key as the uncompressed point `04 || x || y` (65 bytes, 88 base64 characters: the spec's
  example keyValue "BFN7KTdO..." is one) or as an X.509 SubjectPublicKeyInfo with the explicit curve parameters.
  A private key is a big-endian integer.
- Shared secret: the x-coordinate of d·Q, 32 bytes big-endian (BouncyCastle's ECDH agreement pads to the field
  size; the Python peers drop leading zero bytes, which differs once in 256 keys: we follow the Java reference).
- xor = senderNonce XOR requesterNonce (both 32 random bytes, base64); salt = xor[:20], IV = xor[-12:].
- AES key = HKDF-SHA256(ikm = shared secret, salt, no info, 32 bytes); AES-256-GCM with a 128-bit tag appended to
  the ciphertext; the result base64.

The published test vector of fidelius-cli's README is abdm/tests/test_fidelius.py's fixed vector.

Scalar multiplication is plain Python integers (a Montgomery ladder, no secret-dependent branches but not
constant-time arithmetic): every transfer uses a fresh key pair (`generate_key_material`) that encrypts one
request's bundles, so a timing observer never sees one key used twice.
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
KEY_PARAMETERS = "Curve25519/32byte random key"

# Curve25519 (Montgomery v² = u³ + A·u² + u) in short Weierstrass form: x = u + A/3, y = v;
# a = (3 - A²)/3, b = (2A³ - 9A)/27. These are BouncyCastle's CustomNamedCurves "curve25519" constants.
P = 2**255 - 19
_A = 486662
_THIRD = pow(3, -1, P)
A = (3 - _A * _A) * _THIRD % P
B = (2 * _A**3 - 9 * _A) * pow(27, -1, P) % P
N = 2**252 + 27742317777372353535851937790883648493  # order of the base point (cofactor 8)
GX = (9 + _A * _THIRD) % P
GY = 0x20AE19A1B8A086B4E01EDD2C7748D14C923D4D7E6D7C61B229E9C5A27ECED3D9
G = (GX, GY)

# The X.509 SubjectPublicKeyInfo BouncyCastle writes for this curve (explicit parameters): this fixed prefix, whose
# last bytes open the BIT STRING of the uncompressed point (03 42 00 04), then the point's x and y (32 bytes each).
_X509_PREFIX = base64.b64decode(
    "MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqq"
    "qqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqq"
    "qqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCA"
    "NCAAQ="
)


class FideliusError(ValueError):
    """A key, nonce or ciphertext that is not what the scheme needs (the request's key material is malformed)."""


@dataclass(frozen=True)
class KeyMaterial:
    """One party's key pair and nonce, base64 as they travel: `public_key` the 65-byte uncompressed point."""

    private_key: str
    public_key: str
    nonce: str

    @property
    def x509_public_key(self) -> str:
        return base64.b64encode(_X509_PREFIX + base64.b64decode(self.public_key)[1:]).decode()


# --- Curve arithmetic (Jacobian coordinates; None is the point at infinity) -------------------------------------


def _double(point):
    if point is None:
        return None
    x, y, z = point
    if y == 0:
        return None
    yy = y * y % P
    s = 4 * x * yy % P
    zz = z * z % P
    m = (3 * x * x + A * zz * zz) % P
    x3 = (m * m - 2 * s) % P
    y3 = (m * (s - x3) - 8 * yy * yy) % P
    z3 = 2 * y * z % P
    return (x3, y3, z3)


def _add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    z1z1 = z1 * z1 % P
    z2z2 = z2 * z2 % P
    u1 = x1 * z2z2 % P
    u2 = x2 * z1z1 % P
    s1 = y1 * z2 * z2z2 % P
    s2 = y2 * z1 * z1z1 % P
    if u1 == u2:
        return _double(p1) if s1 == s2 else None
    h = (u2 - u1) % P
    r = (s2 - s1) % P
    hh = h * h % P
    hhh = h * hh % P
    v = u1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    y3 = (r * (v - x3) - s1 * hhh) % P
    z3 = h * z1 * z2 % P
    return (x3, y3, z3)


def _multiply(scalar: int, point: tuple[int, int]) -> tuple[int, int] | None:
    """scalar·point in affine coordinates (None: the point at infinity). A Montgomery ladder over 256 bits."""
    r0, r1 = None, (point[0], point[1], 1)
    for bit in reversed(range(256)):
        if (scalar >> bit) & 1:
            r0, r1 = _add(r0, r1), _double(r1)
        else:
            r0, r1 = _double(r0), _add(r0, r1)
    if r0 is None or r0[2] % P == 0:
        return None
    x, y, z = r0
    z_inv = pow(z, -1, P)
    zz = z_inv * z_inv % P
    return (x * zz % P, y * zz * z_inv % P)


def _on_curve(x: int, y: int) -> bool:
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


# --- Encodings ---------------------------------------------------------------------------------------------------


def _b64(value: str, what: str) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise FideliusError(f"The {what} is missing.")
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise FideliusError(f"The {what} is not base64.") from None


def encode_point(point: tuple[int, int]) -> str:
    x, y = point
    return base64.b64encode(b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")).decode()


def decode_public_key(value: str) -> tuple[int, int]:
    """The peer's public key: a base64 uncompressed point (65 bytes) or BouncyCastle's X.509 form of one. Refused
    (FideliusError): anything else, a point not on the curve, or a point outside the prime-order group."""
    raw = _b64(value, "public key")
    if len(raw) == len(_X509_PREFIX) + 64 and raw.startswith(_X509_PREFIX):
        raw = b"\x04" + raw[len(_X509_PREFIX) :]
    if len(raw) != 65 or raw[0] != 4:
        raise FideliusError("The public key is not an uncompressed Curve25519 point (65 bytes starting 04) or X.509.")
    x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")
    if not _on_curve(x, y):
        raise FideliusError("The public key is not a point on Curve25519.")
    if _multiply(N, (x, y)) is not None:  # a low-order or mixed point would leak bits of our key
        raise FideliusError("The public key is not in the curve's prime-order group.")
    return (x, y)


def decode_private_key(value: str) -> int:
    """A private key as the Java reference reads it (`new BigInteger(bytes)`: big-endian, two's complement)."""
    scalar = int.from_bytes(_b64(value, "private key"), "big", signed=True)
    if not 0 < scalar < N:
        raise FideliusError("The private key is out of range.")
    return scalar


def decode_nonce(value: str) -> bytes:
    nonce = _b64(value, "nonce")
    if len(nonce) != 32:
        raise FideliusError("A nonce is 32 random bytes (base64).")
    return nonce


def public_key_for(private_key: str) -> str:
    return encode_point(_multiply(decode_private_key(private_key), G))


def generate_key_material() -> KeyMaterial:
    """A fresh key pair and nonce for one transfer."""
    while True:
        scalar = int.from_bytes(os.urandom(32), "big") % N
        if scalar:
            break
    return KeyMaterial(
        private_key=base64.b64encode(scalar.to_bytes(32, "big")).decode(),
        public_key=encode_point(_multiply(scalar, G)),
        nonce=base64.b64encode(os.urandom(32)).decode(),
    )


# --- The scheme --------------------------------------------------------------------------------------------------


def _aes_key_and_iv(*, private_key: str, public_key: str, nonce_a: str, nonce_b: str) -> tuple[bytes, bytes]:
    scalar = decode_private_key(private_key)
    peer = decode_public_key(public_key)
    xor = bytes(a ^ b for a, b in zip(decode_nonce(nonce_a), decode_nonce(nonce_b), strict=True))
    shared = _multiply(scalar, peer)
    if shared is None:
        raise FideliusError("The key agreement gave the point at infinity.")
    secret = shared[0].to_bytes(32, "big")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=xor[:20], info=None).derive(secret)
    return key, xor[-12:]


def encrypt(
    plaintext: str, *, sender_private_key: str, sender_nonce: str, requester_public_key: str, requester_nonce: str
) -> str:
    """The base64 ciphertext (with its GCM tag) of `plaintext` (UTF-8) for the requester. FideliusError when the
    requester's key or nonce is malformed."""
    key, iv = _aes_key_and_iv(
        private_key=sender_private_key, public_key=requester_public_key, nonce_a=sender_nonce, nonce_b=requester_nonce
    )
    return base64.b64encode(AESGCM(key).encrypt(iv, plaintext.encode("utf-8"), None)).decode()


def decrypt(
    ciphertext: str, *, requester_private_key: str, requester_nonce: str, sender_public_key: str, sender_nonce: str
) -> str:
    """The plaintext of a sender's ciphertext, for the requester. FideliusError when it does not authenticate."""
    key, iv = _aes_key_and_iv(
        private_key=requester_private_key, public_key=sender_public_key, nonce_a=sender_nonce, nonce_b=requester_nonce
    )
    try:
        return AESGCM(key).decrypt(iv, _b64(ciphertext, "ciphertext"), None).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise FideliusError("The ciphertext does not decrypt with these keys and nonces.") from None
