"""M1's encrypted inputs: RSA/ECB/OAEPWithSHA-1AndMGF1Padding (OAEP, SHA-1 digest, MGF1 with SHA-1), standard
base64 of the ciphertext, under the public key of GET /v3/profile/public/certificate.

A value encrypted with PKCS#1 v1.5, with OAEP-SHA-256, or under another key does not decrypt: the caller answers
with the validation refusal that names the field, as ABDM does (hiecm.concept.input-encryption: "it fails at the
API as a validation refusal that names the business field").
"""

import base64
import binascii

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from ..keys import encryption_key

ALGORITHM = "RSA/ECB/OAEPWithSHA-1AndMGF1Padding"
_OAEP_SHA1 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303 - M1's published padding


class Undecryptable(ValueError):
    """A value not encrypted with the published key and padding (ABDM refuses it as an invalid field)."""


def public_key_b64() -> str:
    """The public key as the spec's example gives it: base64 of the DER SubjectPublicKeyInfo, no PEM armour."""
    der = encryption_key().public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def decrypt(value) -> str:
    """The plaintext of an encrypted field; raises Undecryptable for anything else."""
    if not isinstance(value, str) or not value.strip():
        raise Undecryptable("empty")
    try:
        ciphertext = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Undecryptable("not base64") from None
    try:
        plain = encryption_key().private_key.decrypt(ciphertext, _OAEP_SHA1)
    except ValueError:
        raise Undecryptable("not OAEP-SHA1 under the sandbox key") from None
    try:
        return plain.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Undecryptable("not text") from None
