"""The bridge endpoints the gateway calls back (the webhooks of NHA's published specs, e.g.
`POST <bridge URL>/api/v3/hip/patient/share`).

    register_callback("/api/v3/hip/patient/share", handler)      # from the owning app's AppConfig.ready()
    handler(request_id: str, body: dict, headers: dict) -> dict | None   # reply body; None: the empty 202

Every callback is checked here before any handler runs:

1. `Authorization: Bearer <JWT>` signed by the gateway: RS256 only (an unsigned `alg: none` token or any other
   algorithm is refused), a `kid` among the gateway's published keys, a valid signature, not expired, `iss` equal to
   the `issuer` of the gateway's OpenID configuration, `aud` equal to our bridge ID (ABDM_CLIENT_ID). The keys are
   discovered from `GET /api/hiecm/gateway/v3/.well-known/openid-configuration` (`jwks_uri`, which points at
   `GET /api/hiecm/gateway/v3/certs`, a JWKS behind the session bearer), kept in the cache for an hour and
   fetched again once when a token names a `kid` we do not know (key rotation). Refused: 401, nothing changed.
2. A `REQUEST-ID` header (400 without), and a JSON object body (400 otherwise).
3. Idempotency on REQUEST-ID: the answer to each callback is stored (CallbackReceipt); a replay gets the same
   answer and no handler runs again.
4. A body that answers one of our requests (`resp.requestId`, or `response.requestId` in the newer specs) completes
   the outbox message with that REQUEST-ID and runs its kind's on_success. When no message awaits it, the callback
   is logged, audited and answered 400 `ABDM-1030` "Request id not found" (ABDM's own code for it in
   hiecm-m1.yaml), and nothing changes.

Every refusal is audited (`abdm.callback_refused`, with the path, the REQUEST-ID and the reason, never the body).
"""

import json
import logging
import time
from collections.abc import Callable

import jwt
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.exceptions import DomainError
from core.services import audit_record

from . import client, outbox
from .models import CallbackReceipt

log = logging.getLogger("abdm.callbacks")

OPENID_PATH = "/api/hiecm/gateway/v3/.well-known/openid-configuration"
MOUNT = "/api/v3/"  # every webhook of the published specs lives under it (config/urls.py mounts it)
KEYS_SECONDS = 3600
REFETCH_COOLDOWN = 5  # at most one forced key fetch per this many seconds (a flood of made-up kids)
LEEWAY = 30  # seconds of clock difference accepted on exp/iat

_routes: dict[str, Callable | None] = {}


def register_callback(path: str, handler: Callable | None = None) -> None:
    """Accept gateway callbacks at `path` (relative to the bridge URL, exactly as the spec's webhook names it).
    `handler(request_id, body, headers)` returns the reply body (None: an empty 202). A path whose callbacks only
    answer outbox messages (their `resp.requestId`) may register without a handler."""
    if not path.startswith(MOUNT):
        raise ValueError(f"Callback paths live under {MOUNT} (config/urls.py): {path!r}")
    _routes[path.rstrip("/")] = handler


def registered_paths() -> list[str]:
    return sorted(_routes)


class Refused(Exception):
    """The callback's token is missing or not the gateway's (401)."""


# --- The gateway's keys ------------------------------------------------------------------------------


def _keys_cache_key() -> str:
    return f"abdm:gateway-keys:{settings.ABDM_GATEWAY_URL}"


def _fetch_keys() -> dict:
    config = client.gateway_public("GET", OPENID_PATH)
    if not isinstance(config, dict):
        raise client.AbdmError("The gateway's OpenID configuration is not an object.", code="bad_reply")
    jwks_uri = config.get("jwks_uri") or config.get("url")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise client.AbdmError("The gateway's OpenID configuration names no jwks_uri.", code="bad_reply")
    jwks = client.gateway_url(jwks_uri)
    keys = {}
    for jwk in (jwks or {}).get("keys", []) if isinstance(jwks, dict) else []:
        if isinstance(jwk, dict) and jwk.get("kid") and jwk.get("kty") == "RSA":
            keys[jwk["kid"]] = jwk
    found = {"issuer": config.get("issuer") or "", "keys": keys, "fetched": time.time()}
    try:
        cache.set(_keys_cache_key(), found, KEYS_SECONDS)
    except Exception:  # noqa: BLE001 - Redis down: verify with what we fetched, fetch again next time
        log.warning("Gateway keys not cached: the cache is unavailable")
    return found


def gateway_keys(*, kid: str | None = None) -> dict:
    """{"issuer", "keys": {kid: jwk}}: cached; fetched again when `kid` is not among them (at most once per
    REFETCH_COOLDOWN seconds). Raises AbdmUnavailable when the gateway cannot be asked."""
    try:
        found = cache.get(_keys_cache_key())
    except Exception:  # noqa: BLE001 - see _fetch_keys
        found = None
    if found is None:
        return _fetch_keys()
    if kid and kid not in found["keys"] and time.time() - found.get("fetched", 0) > REFETCH_COOLDOWN:
        return _fetch_keys()
    return found


def verify_token(authorization: str | None) -> dict:
    """The claims of the gateway's bearer token, or Refused with the reason."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Refused("no bearer token")
    token = authorization.removeprefix("Bearer ").strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise Refused("not a JWT") from None
    if header.get("alg") != "RS256":
        raise Refused(f"algorithm {str(header.get('alg'))[:20]!r} is not RS256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Refused("no kid")
    found = gateway_keys(kid=kid)
    jwk = found["keys"].get(kid)
    if jwk is None:
        raise Refused("unknown kid")
    try:
        key = jwt.PyJWK(jwk, algorithm="RS256").key
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=settings.ABDM_CLIENT_ID,
            issuer=found["issuer"] or None,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Refused("expired") from None
    except jwt.InvalidAudienceError:
        raise Refused("another audience") from None
    except jwt.InvalidIssuerError:
        raise Refused("another issuer") from None
    except (jwt.InvalidTokenError, jwt.PyJWKError):
        raise Refused("bad signature or claims") from None


# --- The view ----------------------------------------------------------------------------------------


def _abdm_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _refuse(request, status: int, reason: str, request_id: str = "") -> None:
    log.warning("Callback %s refused (%s): %s", request.path_info, status, reason)
    audit_record(
        actor=None,
        action="abdm.callback_refused",
        details={"path": request.path_info, "request_id": request_id[:100], "status": status, "reason": reason},
        request=request,
    )


def _reply(status: int, body) -> HttpResponse:
    if body is None:
        return HttpResponse(status=status)
    return JsonResponse(body, status=status, safe=False)


def _answered_request_id(body: dict) -> str | None:
    for key in ("resp", "response"):
        value = body.get(key)
        if isinstance(value, dict) and value.get("requestId"):
            return str(value["requestId"])
    return None


@csrf_exempt
def callback(request, **kwargs):
    """Any gateway callback under MOUNT: verified, deduplicated, matched to its outbox message, handled."""
    path = request.path_info.rstrip("/")
    if path not in _routes:
        return _abdm_error(404, "ABDM-1001", "No such callback")
    if request.method != "POST":
        response = _abdm_error(405, "ABDM-1006", "Method not allowed")
        response["Allow"] = "POST"
        return response
    request_id = request.headers.get("REQUEST-ID", "").strip()
    try:
        verify_token(request.headers.get("Authorization"))
    except Refused as refused:
        _refuse(request, 401, str(refused), request_id)
        # The shape and code of the gateway's own 401 (hiecm-gateway.yaml).
        body = {"code": "900901", "message": "Invalid Credentials", "description": str(refused)}
        return JsonResponse(body, status=401)
    except client.AbdmError:
        # The gateway's keys cannot be fetched: the token cannot be checked now; the gateway may try again.
        log.warning("Callback %s not verified: the gateway's keys are unavailable", path)
        response = _abdm_error(503, "ABDM-1024", "Dependent service unavailable")
        response["Retry-After"] = str(client.RETRY_AFTER_SECONDS)
        return response
    if not request_id or len(request_id) > 100:
        _refuse(request, 400, "no REQUEST-ID header")
        return _abdm_error(400, "ABDM-1006", "REQUEST-ID header is required")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        _refuse(request, 400, "body is not a JSON object", request_id)
        return _abdm_error(400, "ABDM-1006", "Bad Request, the body must be a JSON object")

    stored = CallbackReceipt.objects.filter(request_id=request_id).first()
    if stored is not None:
        log.info("Callback %s replayed: request_id=%s answered as before", path, request_id)
        return _reply(stored.status_code, stored.reply)
    try:
        with transaction.atomic():
            status, reply = _handle(request, path, request_id, body)
            CallbackReceipt.objects.create(request_id=request_id, path=path, status_code=status, reply=reply)
    except DomainError as refusal:  # the handler refused the content; its changes were rolled back
        _refuse(request, 400, f"handler refused: {refusal.code}", request_id)
        return _abdm_error(400, "ABDM-1006", str(refusal.message))
    except IntegrityError:
        # The same callback arrived twice at once: the other one's answer stands (ours was rolled back).
        stored = CallbackReceipt.objects.filter(request_id=request_id).first()
        if stored is None:
            raise
        return _reply(stored.status_code, stored.reply)
    return _reply(status, reply)


def _handle(request, path: str, request_id: str, body: dict) -> tuple[int, dict | None]:
    """Run in the transaction that stores the receipt: the outbox message and the handler's changes commit with
    it, or not at all."""
    handler = _routes[path]
    answered = _answered_request_id(body)
    if answered is not None:
        message = outbox.complete_from_callback(answered, body)
        if message is None:
            reason = "answers no request of ours"
            log.warning("Callback %s request_id=%s %s (resp.requestId=%s)", path, request_id, reason, answered)
            _refuse(request, 400, f"{reason}: {answered[:100]}", request_id)
            return 400, {"error": {"code": "ABDM-1030", "message": "Request id not found"}}
    elif handler is None:
        _refuse(request, 400, "no resp.requestId", request_id)
        return 400, {"error": {"code": "ABDM-1006", "message": "Bad Request, resp.requestId is required"}}
    if handler is None:
        return 202, None
    headers = {key: value for key, value in request.headers.items() if key.lower() != "authorization"}
    reply = handler(request_id, body, headers)
    return (202, None) if reply is None else (200, reply)
