"""The user-scoped tokens of M1, JWTs signed with the sandbox's signing key (RS256, its `kid`):

- X-token (`token`): one person's account; subject = the 14-digit ABHA number; 1800 s (`expiresIn`).
- refresh token (`refreshToken`, sent back as R-token): 1296000 s (15 days, `refreshExpiresIn`), as the spec's
  examples give them.
- T-token: the transaction token of a login whose identifier maps to several ABHAs; subject = the txnId; 300 s.
Each carries `token_use` so one can never stand for another (nor for a gateway session token).
"""

import os
import time
import uuid

import jwt
from django.conf import settings

from ..keys import signing_key

# The `token_use` claim of each kind (names, not secrets).
X_TOKEN = "abha-x"  # noqa: S105 - a claim value
REFRESH_TOKEN = "abha-refresh"  # noqa: S105 - a claim value
T_TOKEN = "abha-t"  # noqa: S105 - a claim value
X_SECONDS = int(os.environ.get("ABDM_SANDBOX_X_TOKEN_SECONDS") or 1800)
REFRESH_SECONDS = int(os.environ.get("ABDM_SANDBOX_R_TOKEN_SECONDS") or 1296000)
T_SECONDS = 300


class TokenExpired(Exception):
    """A user token past its expiry (ABDM-1094)."""


class TokenInvalid(Exception):
    """A user token the sandbox did not sign, or for another purpose (ABDM-1158)."""


def _sign(subject: str, use: str, lifetime: int, **extra) -> str:
    key = signing_key()
    now = int(time.time())
    claims = {"iss": settings.SANDBOX_URL, "sub": subject, "token_use": use, "iat": now, "exp": now + lifetime,
              "jti": str(uuid.uuid4()), **extra}  # fmt: skip
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})


def issue(abha_number: str, *, client_id: str = "", abha_address: str = "") -> dict:
    """A full issuance: token, expiresIn, refreshToken, refreshExpiresIn. `abha_address`: the address a PHR
    login signed in with (its profile and card show that one)."""
    extra = {"abhaAddress": abha_address} if abha_address else {}
    return {
        "token": _sign(abha_number, X_TOKEN, X_SECONDS, clientId=client_id, **extra),
        "expiresIn": X_SECONDS,
        "refreshToken": _sign(abha_number, REFRESH_TOKEN, REFRESH_SECONDS, clientId=client_id),
        "refreshExpiresIn": REFRESH_SECONDS,
    }


def transaction_token(txn_id: str) -> str:
    return _sign(txn_id, T_TOKEN, T_SECONDS)


def bearer_value(header: str | None) -> str | None:
    """The token of an `X-token: Bearer <jwt>` style header (the spec: the value carries a `Bearer ` prefix;
    a bare token reads as an invalid token)."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def read(header: str | None, use: str) -> str:
    """The subject of a user token of kind `use` sent in a header; raises TokenInvalid or TokenExpired."""
    token = bearer_value(header)
    if token is None:
        raise TokenInvalid("missing or not `Bearer <token>`")
    try:
        claims = jwt.decode(
            token,
            signing_key().public_key,
            algorithms=["RS256"],
            issuer=settings.SANDBOX_URL,
            options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired() from None
    except jwt.InvalidTokenError:
        raise TokenInvalid("not a token of this sandbox") from None
    if claims.get("token_use") != use:
        raise TokenInvalid(f"not a {use} token")
    return claims["sub"]


def claim(header: str | None, name: str):
    """One claim of an already verified token (read() first)."""
    token = bearer_value(header)
    return jwt.decode(token, options={"verify_signature": False}).get(name) if token else None
