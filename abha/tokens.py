"""ABDM user tokens at rest: sealed with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from SECRET_KEY.

The portal keeps the X-token (and its refresh token) ABDM issued at enrolment or sign-in, to fetch the citizen's
card and profile later; a copy of the database alone does not reveal them. Changing SECRET_KEY makes every sealed
token unreadable: the citizens are asked to sign in again (ABDM issues a new one), nothing else is lost.
"""

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@cache
def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"abha.abdm-user-token.v1").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(token: str) -> str:
    return _fernet(settings.SECRET_KEY).encrypt(token.encode()).decode() if token else ""


def unseal(sealed: str) -> str:
    """The token, or "" when there is none or it cannot be read (another SECRET_KEY, a damaged value)."""
    if not sealed:
        return ""
    try:
        return _fernet(settings.SECRET_KEY).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return ""
