"""The sandbox's RSA key pairs, kept in its database (created on first use, so a restart keeps them).

`signing_key()` signs session tokens and callback JWTs (RS256; its public half is published as a JWKS at the
gateway's certs path). `encryption_key()` is M1's: clients encrypt Aadhaar numbers, OTPs and login IDs with the
public key from `encryption_certificate_pem()` and the sandbox decrypts them.
"""

import base64
import datetime
import hashlib
import json
import threading
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.db import IntegrityError, transaction

from .models import KeyPair

KEY_SIZE = 2048
CERTIFICATE_DAYS = 3650
_cache: dict[str, "SandboxKey"] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class SandboxKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    certificate_pem: str

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    @property
    def private_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    @property
    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def jwk(self) -> dict:
        """The public key as a JWK (RFC 7517), as a JWKS lists it."""
        numbers = self.public_key.public_numbers()
        return {
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": _b64_uint(numbers.n),
            "e": _b64_uint(numbers.e),
        }


def _b64_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint: a kid that is stable for the key and says nothing else."""
    numbers = public_key.public_numbers()
    canonical = json.dumps({"e": _b64_uint(numbers.e), "kty": "RSA", "n": _b64_uint(numbers.n)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _self_signed(private_key: rsa.RSAPrivateKey, common_name: str) -> str:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Local ABDM sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _load(row: KeyPair) -> SandboxKey:
    private_key = serialization.load_pem_private_key(row.private_key_pem.encode(), password=None)
    return SandboxKey(kid=row.kid, private_key=private_key, certificate_pem=row.certificate_pem)


def _get_or_create(name: str) -> SandboxKey:
    with _lock:
        if name in _cache:
            return _cache[name]
        row = KeyPair.objects.filter(name=name).first()
        if row is None:
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
            try:
                with transaction.atomic():
                    row = KeyPair.objects.create(
                        name=name,
                        kid=_thumbprint(private_key.public_key()),
                        private_key_pem=private_key.private_bytes(
                            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                        ).decode(),
                        certificate_pem=_self_signed(private_key, f"abdm-sandbox-{name}"),
                    )
            except IntegrityError:  # another process made it first: use theirs
                row = KeyPair.objects.get(name=name)
        _cache[name] = _load(row)
        return _cache[name]


def signing_key() -> SandboxKey:
    return _get_or_create("signing")


def encryption_key() -> SandboxKey:
    return _get_or_create("encryption")


def encryption_certificate_pem() -> str:
    return encryption_key().certificate_pem


def ensure_keys() -> None:
    """Create both key pairs now (at start) rather than on the first request."""
    signing_key()
    encryption_key()
