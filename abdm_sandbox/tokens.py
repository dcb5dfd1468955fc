"""JWTs the sandbox mints: gateway session tokens (access and refresh) and callback tokens, all RS256 with the
signing key's `kid`, all verifiable against the JWKS the gateway publishes."""

import time
import uuid

import jwt
from django.conf import settings

from .keys import signing_key

ACCESS = "access"
REFRESH = "refresh"
CALLBACK_LIFETIME = 600  # seconds: iat + 10 min


def _sign(claims: dict) -> str:
    key = signing_key()
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})


def session_tokens(client_id: str) -> dict:
    """The body of a sessions answer: accessToken, expiresIn, refreshExpiresIn, refreshToken, tokenType."""
    now = int(time.time())
    common = {"iss": settings.SANDBOX_URL, "sub": client_id, "clientId": client_id, "iat": now}
    access = _sign(
        {**common, "exp": now + settings.SANDBOX_SESSION_SECONDS, "jti": str(uuid.uuid4()), "token_use": ACCESS}
    )
    refresh = _sign(
        {**common, "exp": now + settings.SANDBOX_REFRESH_SECONDS, "jti": str(uuid.uuid4()), "token_use": REFRESH}
    )
    return {
        "accessToken": access,
        "expiresIn": settings.SANDBOX_SESSION_SECONDS,
        "refreshExpiresIn": settings.SANDBOX_REFRESH_SECONDS,
        "refreshToken": refresh,
        "tokenType": "bearer",
    }


def read_session_token(token: str, *, use: str = ACCESS) -> dict:
    """The claims of a session token minted here; raises jwt.InvalidTokenError when it is not one (bad
    signature, expired, another issuer, a refresh token used as an access token)."""
    claims = jwt.decode(
        token,
        signing_key().public_key,
        algorithms=["RS256"],
        issuer=settings.SANDBOX_URL,
        options={"require": ["exp", "iat", "iss", "clientId"], "verify_aud": False},
    )
    if claims.get("token_use") != use:
        raise jwt.InvalidTokenError(f"not a {use} token")
    return claims


def callback_token(audience: str, *, lifetime: int = CALLBACK_LIFETIME, now: int | None = None) -> str:
    """The bearer token of a callback to bridge `audience`: iss = the sandbox's gateway URL, aud = the bridge's
    client ID, clientId = "gateway", iat, exp, jti."""
    now = int(time.time()) if now is None else now
    return _sign(
        {
            "iss": settings.SANDBOX_URL,
            "aud": audience,
            "clientId": "gateway",
            "iat": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
        }
    )
