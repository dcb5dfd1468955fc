"""`require_session`: the checks ABDM's API gateway makes before an operation runs.

- `Authorization: Bearer <accessToken from POST /api/hiecm/gateway/v3/sessions>`; missing, malformed, expired or
  not ours: 401 `{"code": "900901", "message": "Invalid Credentials", "description": ...}` (the spec's 401).
- `REQUEST-ID`: a UUID; missing or not a UUID: 400 ABDM-1006.
- `TIMESTAMP`: ISO 8601 UTC with the `Z` suffix; missing, another offset, or further than
  ABDM_SANDBOX_TIMESTAMP_SKEW seconds from the sandbox's clock (0 turns that check off): 400 ABDM-1016.
- `X-CM-ID` (gateway operations, `cm_id=True`): must be the sandbox's consent manager ID (`sbx`): 400 ABDM-2403.
The view sees `request.abdm_client` (the client ID) and `request.abdm_request_id`.
"""

import datetime
import functools
import os
import re
import uuid

import jwt
from django.conf import settings

from .errors import abdm_error, unauthorized
from .tokens import read_session_token

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
TIMESTAMP_SKEW = int(os.environ.get("ABDM_SANDBOX_TIMESTAMP_SKEW") or 600)


def _bearer(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def check_standard_headers(request, *, cm_id: bool = False):
    """None when REQUEST-ID, TIMESTAMP (and X-CM-ID) are as the spec says, else the error answer."""
    request_id = request.headers.get("REQUEST-ID", "")
    try:
        uuid.UUID(request_id)
    except ValueError:
        return abdm_error(400, "ABDM-1006", "Bad Request, invalid REQUEST-ID header (a UUID is required)")
    stamp = request.headers.get("TIMESTAMP", "")
    if not _TIMESTAMP.match(stamp):
        return abdm_error(400, "ABDM-1016", "Invalid Timestamp")
    try:
        sent = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return abdm_error(400, "ABDM-1016", "Invalid Timestamp")
    now = datetime.datetime.now(datetime.UTC)
    if TIMESTAMP_SKEW and abs((now - sent).total_seconds()) > TIMESTAMP_SKEW:
        return abdm_error(400, "ABDM-1016", "Invalid Timestamp")
    if cm_id and request.headers.get("X-CM-ID", "") != settings.SANDBOX_CM_ID:
        return abdm_error(400, "ABDM-2403", "Invalid X-CM-ID")
    request.abdm_request_id = request_id
    return None


def authenticate(request):
    """None when the bearer token is a live access token of an active client (sets request.abdm_client),
    else the spec's 401."""
    from .models import ApiClient  # noqa: PLC0415 - keeps this module importable before apps load (settings)

    token = _bearer(request)
    if token is None:
        return unauthorized()
    try:
        claims = read_session_token(token)
    except jwt.InvalidTokenError:
        return unauthorized()
    if not ApiClient.objects.filter(client_id=claims["clientId"], active=True).exists():
        return unauthorized()
    request.abdm_client = claims["clientId"]
    return None


def require_session(view=None, *, cm_id: bool = False, headers: bool = True):
    """Decorate a view that needs a gateway session (and the standard headers). Use bare, or with
    `cm_id=True` for gateway operations whose spec requires X-CM-ID, or `headers=False` for operations whose
    spec asks only for the bearer token (M4's HFR/HPR). Credentials are checked first, as ABDM's API gateway
    does, then the headers."""

    def decorate(func):
        @functools.wraps(func)
        def wrapped(request, *args, **kwargs):
            refused = authenticate(request)
            if refused is None and headers:
                refused = check_standard_headers(request, cm_id=cm_id)
            if refused is not None:
                return refused
            return func(request, *args, **kwargs)

        wrapped.csrf_exempt = True
        return wrapped

    return decorate(view) if view is not None else decorate
