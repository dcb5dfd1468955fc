"""Callbacks from the gateway to a bridge: POST <bridge url><path> with a signed bearer token and the standard
headers (REQUEST-ID, TIMESTAMP, X-CM-ID), as ABDM's gateway calls an integrator's webhooks.

The token (tokens.callback_token) is an RS256 JWT with the signing key's kid: iss = the sandbox's URL, aud = the
bridge ID, clientId = "gateway", iat, exp = iat + 10 min, jti. `tamper` makes a deliberately bad one for tests.
"""

import datetime
import json
import logging
import time
import uuid

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from .keys import signing_key
from .models import Bridge, CallbackAttempt
from .tokens import callback_token

logger = logging.getLogger(__name__)

TAMPERS = ("bad-signature", "expired", "other-audience", "unsigned", "no-token")


class UnknownBridge(Exception):
    """No such bridge, or it has no URL registered yet."""


def timestamp() -> str:
    """ISO 8601 UTC with milliseconds and Z, the TIMESTAMP header's form."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _token(audience: str, tamper: str | None) -> str | None:
    if tamper is None:
        return callback_token(audience)
    if tamper == "expired":
        return callback_token(audience, now=int(time.time()) - 3600)
    if tamper == "other-audience":
        return callback_token("another-bridge")
    if tamper == "bad-signature":
        # Signed by a key nobody published, under the real key's kid: only checking the signature catches it.
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = int(time.time())
        claims = {"iss": settings.SANDBOX_URL, "aud": audience, "clientId": "gateway", "iat": now,
                  "exp": now + 600, "jti": str(uuid.uuid4())}  # fmt: skip
        return jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": signing_key().kid})
    if tamper == "unsigned":
        now = int(time.time())
        claims = {"iss": settings.SANDBOX_URL, "aud": audience, "clientId": "gateway", "iat": now,
                  "exp": now + 600, "jti": str(uuid.uuid4())}  # fmt: skip
        return jwt.encode(claims, None, algorithm="none", headers={"kid": signing_key().kid})
    if tamper == "no-token":
        return None
    raise ValueError(f"unknown tamper {tamper!r}; one of {', '.join(TAMPERS)}")


def send_callback(
    bridge_id: str,
    path: str,
    body: dict,
    request_id: str | None = None,
    *,
    tamper: str | None = None,
    headers: dict | None = None,
) -> tuple[int | None, object]:
    """POST `body` to the bridge's registered URL + `path`. Returns (HTTP status, parsed JSON or text); status is
    None when the bridge did not answer (the second item then says why). Each attempt is recorded."""
    bridge = Bridge.objects.filter(bridge_id=bridge_id).first()
    if bridge is None or not bridge.url:
        raise UnknownBridge(bridge_id)
    request_id = request_id or str(uuid.uuid4())
    sent_headers = {
        "Content-Type": "application/json",
        "REQUEST-ID": request_id,
        "TIMESTAMP": timestamp(),
        "X-CM-ID": settings.SANDBOX_CM_ID,
        **(headers or {}),
    }
    token = _token(bridge_id, tamper)
    if token is not None:
        sent_headers["Authorization"] = f"Bearer {token}"
    url = bridge.url.rstrip("/") + "/" + path.lstrip("/")
    try:
        response = requests.post(
            url, data=json.dumps(body), headers=sent_headers, timeout=settings.SANDBOX_CALLBACK_TIMEOUT
        )
    except requests.RequestException as error:
        logger.warning("callback %s to bridge %s: no answer (%s)", path, bridge_id, type(error).__name__)
        CallbackAttempt.objects.create(bridge_id=bridge_id, path=path, request_id=request_id, status=None,
                                       response_body=type(error).__name__)  # fmt: skip
        return None, f"{type(error).__name__}: {error}"
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    CallbackAttempt.objects.create(bridge_id=bridge_id, path=path, request_id=request_id,
                                   status=response.status_code, response_body=response.text[:10000])  # fmt: skip
    logger.info("callback %s to bridge %s: HTTP %s", path, bridge_id, response.status_code)
    return response.status_code, answer
