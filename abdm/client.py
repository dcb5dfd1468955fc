"""HTTP client for ABDM: the gateway, the ABHA service (M1) and the facility/professional registries (M4).

Every call carries the standard headers of NHA's published OpenAPI (hiecm-gateway.yaml): `REQUEST-ID` (a UUID),
`TIMESTAMP` (ISO 8601 UTC with milliseconds and `Z`), `X-CM-ID`, and `Authorization: Bearer <session token>`.
The session token comes from `POST /api/hiecm/gateway/v3/sessions` (clientId, clientSecret, grantType
client_credentials -> accessToken, expiresIn). It is kept in Django's cache (Redis, shared by every web and
worker process) until shortly before it expires; one process renews it under a cache lock while the others wait
and reuse the new one, and a 401 renews it once and retries the call once.

Errors become `AbdmError` (or `AbdmUnavailable` when ABDM cannot be reached, times out, or answers 502/503/504),
with `user_message` in plain words from `abdm.errors`. Bodies are never logged: they carry personal data. Each
call logs its method, path, status, request ID and duration.
"""

import contextlib
import json as jsonlib
import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext

from core.exceptions import DomainError, Unavailable, UpstreamError

from . import errors

log = logging.getLogger("abdm.client")

SESSIONS_PATH = "/api/hiecm/gateway/v3/sessions"
# Renew this many seconds before ABDM says the token expires (clock skew, a slow call in flight).
TOKEN_MARGIN = 60
LOCK_SECONDS = 30  # a renewal that takes longer than this (it has a timeout) frees the lock for another try
UNAVAILABLE_STATUSES = {502, 503, 504}
RETRY_AFTER_SECONDS = 60  # what pages and the API tell people while ABDM is not answering


class AbdmError(UpstreamError):
    """ABDM refused or failed a call. `code` is ABDM's code (e.g. "ABDM-1003", trailing ": " stripped), `message`
    ABDM's text, `status` the HTTP status (None when no answer came), `fields` per-field messages (may be empty).
    `user_message` is the translated plain-words text for pages, looked up when read (the reader's language)."""

    def __init__(self, message: str = "", *, code: str = "", status: int | None = None, fields: dict | None = None):
        super().__init__(f"{code} {message}".strip() if code else message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}

    @property
    def user_message(self) -> str:
        return errors.user_message_for(self.code, self.message)

    @property
    def transient(self) -> bool:
        """Worth sending again later (ABDM's side failed), as opposed to a refusal of this request."""
        return self.status is None or self.status >= 500

    def as_domain_error(self) -> DomainError:
        """The portal's view of it: ABDM's side failing is a 503 to try again in a minute; a refusal is a 400
        (`abdm_refused`) with the plain-words reason. ABDM's field names are not the portal's, so no fields."""
        if self.transient:
            return Unavailable(self.user_message, code="abdm_unavailable", retry_after=RETRY_AFTER_SECONDS)
        return DomainError(self.user_message, code="abdm_refused")


class AbdmUnavailable(AbdmError):
    """ABDM did not answer: connection refused or reset, a timeout, or HTTP 502/503/504."""

    @property
    def user_message(self) -> str:
        return str(errors.UNAVAILABLE)

    @property
    def transient(self) -> bool:
        return True


@contextlib.contextmanager
def domain_errors():
    """`with domain_errors(): ...` turns an AbdmError raised inside into the portal's DomainError (as_domain_error),
    for services and views that already show DomainErrors as form errors."""
    try:
        yield
    except AbdmError as error:
        raise error.as_domain_error() from error


# --- HTTP session per thread and process ------------------------------------------------------------
# requests.Session is not documented as thread-safe, and a forked Celery worker must not share its parent's
# sockets: one Session per (process, thread), reusing connections within it.
_local = threading.local()


def _http() -> requests.Session:
    pid = os.getpid()
    if getattr(_local, "pid", None) != pid:
        _local.session = requests.Session()
        _local.pid = pid
    return _local.session


def _timeouts(timeout: float | None) -> tuple[float, float]:
    read = float(timeout if timeout is not None else settings.ABDM_TIMEOUT)
    return (min(read, 5.0), read)


def timestamp() -> str:
    """Now in ISO 8601 UTC with milliseconds and Z, as the spec's TIMESTAMP examples ("2022-10-06T15:10:00.587Z")."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _loggable(path: str) -> str:
    """The path without identifiers in it (an HPR ID, an ABHA address, a long number): `*` in their place."""
    segments = path.split("?", 1)[0].split("/")
    return "/".join("*" if "@" in part or sum(c.isdigit() for c in part) >= 6 else part for part in segments)


def _join(base: str, path: str) -> str:
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")


# --- Error bodies --------------------------------------------------------------------------------------


def _clean_code(code) -> str:
    text = str(code or "").strip()
    return text.removesuffix(":").strip()


def error_from_response(status: int, content: bytes, content_type: str = "") -> AbdmError:
    """An AbdmError from an ABDM error reply, in any of the shapes the published files show:
    `{"error": {"code", "message"}}`, top-level `{"code", "message"[, "description"]}`, codes with a
    trailing ": ", per-field messages (`{"<field>": "<message>", "timestamp": ...}`), or a text/plain body
    ("Forbidden"). 502/503/504 and the codes of services behind ABDM being down are AbdmUnavailable."""
    cls = AbdmUnavailable if status in UNAVAILABLE_STATUSES else AbdmError
    body = None
    if content:
        try:
            body = jsonlib.loads(content)
        except ValueError:
            body = None
    code = message = ""
    fields: dict = {}
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        code = _clean_code(inner.get("code"))
        message = str(inner.get("message") or inner.get("description") or "").strip()
        for key, value in body.items():
            if key in {"error", "code", "message", "description", "timestamp", "path", "status"}:
                continue
            if isinstance(value, str):
                fields[key] = value
        if not message and fields:
            message = "; ".join(fields.values())
        if not message and isinstance(body.get("error"), str):
            message = body["error"]
    elif content and "json" not in content_type:
        message = content[:200].decode("utf-8", "replace").strip()
    if not code:
        code = str(status)
    if code in errors.UNAVAILABLE_CODES:
        cls = AbdmUnavailable
    return cls(message, code=code, status=status, fields=fields)


# --- Session token -----------------------------------------------------------------------------------


def _token_key() -> str:
    return f"abdm:session:{settings.ABDM_CLIENT_ID}:{settings.ABDM_GATEWAY_URL}"


def _cache_get(key):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - Redis down: work without the shared cache rather than fail the call
        log.warning("ABDM session cache unavailable; fetching a token without it")
        return None


def _cache_call(method: str, *args, **kwargs):
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception:  # noqa: BLE001 - see _cache_get
        return None


def _fetch_token(timeout=None) -> tuple[str, int]:
    body = _send(
        "POST",
        settings.ABDM_GATEWAY_URL,
        SESSIONS_PATH,
        json={
            "clientId": settings.ABDM_CLIENT_ID,
            "clientSecret": settings.ABDM_CLIENT_SECRET,
            "grantType": "client_credentials",
        },
        headers={},
        timeout=timeout,
    )
    if not isinstance(body, dict) or not body.get("accessToken"):
        raise AbdmError("The session reply carried no accessToken.", code="session", status=None)
    try:
        expires_in = int(body.get("expiresIn") or 0)
    except (TypeError, ValueError):
        expires_in = 0
    return body["accessToken"], expires_in


def session_token(*, stale: str | None = None, timeout=None) -> str:
    """The gateway session token, from the cache or renewed once for all processes.

    `stale` is a token ABDM just refused (401): it is replaced unless another caller already replaced it.
    Renewal takes a cache lock (`add`); callers that do not get it wait for the new token and reuse it.
    """
    key = _token_key()
    lock_key = key + ":lock"
    deadline = time.monotonic() + _timeouts(timeout)[1] + 5
    while True:
        cached = _cache_get(key)
        if cached and cached != stale:
            return cached
        if _cache_call("add", lock_key, "1", LOCK_SECONDS) is not False:  # True, or None when Redis is down
            try:
                cached = _cache_get(key)  # renewed between our read and the lock
                if cached and cached != stale:
                    return cached
                token, expires_in = _fetch_token(timeout)
                ttl = max(expires_in - TOKEN_MARGIN, 5) if expires_in else 300
                _cache_call("set", key, token, ttl)
                return token
            finally:
                _cache_call("delete", lock_key)
        if time.monotonic() > deadline:
            raise AbdmUnavailable("Timed out waiting for another process to renew the ABDM session.", status=None)
        time.sleep(0.05)


def forget_session_token() -> None:
    """Drop the cached session token (tests; a changed client secret)."""
    _cache_call("delete", _token_key())


# --- Requests ----------------------------------------------------------------------------------------


def _send(method, base, path, *, json=None, params=None, headers, timeout=None, raw=False, request_id=None):
    """One HTTP exchange with the standard headers; returns the parsed 2xx body or raises."""
    request_id = str(request_id or uuid.uuid4())
    all_headers = {
        "REQUEST-ID": request_id,
        "TIMESTAMP": timestamp(),
        "X-CM-ID": settings.ABDM_CM_ID,
        "Accept": "application/json",
        **headers,
    }
    url = _join(base, path)
    started = time.monotonic()
    status = "-"
    try:
        response = _http().request(
            method, url, json=json, params=params, headers=all_headers, timeout=_timeouts(timeout)
        )
        status = response.status_code
    except requests.Timeout:
        status = "timeout"
        raise AbdmUnavailable("ABDM did not answer in time.", code="timeout") from None
    except requests.RequestException as exc:
        status = "unreachable"
        raise AbdmUnavailable(f"ABDM could not be reached ({type(exc).__name__}).", code="unreachable") from None
    finally:
        elapsed = int((time.monotonic() - started) * 1000)
        log.info("ABDM %s %s -> %s request_id=%s %dms", method, _loggable(path or url), status, request_id, elapsed)
    content_type = response.headers.get("Content-Type", "")
    if not 200 <= response.status_code < 300:
        raise error_from_response(response.status_code, response.content, content_type)
    if raw:
        return response.content, content_type
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        if response.status_code == 202:
            return None
        raise AbdmError("ABDM answered with a body that is not JSON.", code="bad_reply", status=status) from None


def _authorised(method, base, path, *, headers, timeout=None, **kwargs):
    """_send with the session bearer; a 401 renews the token once and retries once."""
    token = session_token(timeout=timeout)
    try:
        return _send(method, base, path, headers={**headers, **_bearer(token)}, timeout=timeout, **kwargs)
    except AbdmError as exc:
        if exc.status != 401:
            raise
    token = session_token(stale=token, timeout=timeout)
    return _send(method, base, path, headers={**headers, **_bearer(token)}, timeout=timeout, **kwargs)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def gateway_request(
    method: str,
    path: str,
    *,
    json=None,
    params=None,
    headers: dict | None = None,
    hip_id: str | None = None,
    hiu_id: str | None = None,
    request_id=None,
    timeout: float | None = None,
) -> dict | list | None:
    """Call the gateway (ABDM_GATEWAY_URL) at `path`. 2xx with a JSON body: the parsed body; 202/204 without a
    body: None. `request_id` is sent as REQUEST-ID (a new UUID when None): the outbox passes its message's."""
    extra = dict(headers or {})
    if hip_id:
        extra["X-HIP-ID"] = hip_id
    if hiu_id:
        extra["X-HIU-ID"] = hiu_id
    return _authorised(
        method,
        settings.ABDM_GATEWAY_URL,
        path,
        json=json,
        params=params,
        headers=extra,
        timeout=timeout,
        request_id=request_id,
    )


def abha_request(
    method: str,
    path: str,
    *,
    json=None,
    params=None,
    headers: dict | None = None,
    x_token: str | None = None,
    t_token: str | None = None,
    raw: bool = False,
    request_id=None,
    timeout: float | None = None,
):
    """Call the ABHA service (ABDM_ABHA_URL, M1) at `path`, e.g. "/v3/enrollment/request/otp".
    `x_token`/`t_token` are a citizen's ABDM user tokens, sent as `X-token: Bearer ...` / `T-token: Bearer ...`.
    raw=True returns `(bytes, content_type)` (the ABHA card)."""
    extra = dict(headers or {})
    if x_token:
        extra["X-token"] = f"Bearer {x_token}"
    if t_token:
        extra["T-token"] = f"Bearer {t_token}"
    if raw:
        extra["Accept"] = "*/*"
    return _authorised(
        method,
        settings.ABDM_ABHA_URL,
        path,
        json=json,
        params=params,
        headers=extra,
        timeout=timeout,
        raw=raw,
        request_id=request_id,
    )


def hfr_request(
    method: str,
    path: str,
    *,
    json=None,
    params=None,
    headers: dict | None = None,
    request_id=None,
    timeout: float | None = None,
) -> dict | list | None:
    """Call the facility and professional registries (ABDM_HFR_URL, M4) at `path`."""
    return _authorised(
        method,
        settings.ABDM_HFR_URL,
        path,
        json=json,
        params=params,
        headers=dict(headers or {}),
        timeout=timeout,
        request_id=request_id,
    )


def gateway_public(method: str, path: str, *, timeout: float | None = None) -> dict | list | None:
    """Call a gateway path that takes no session token (the OpenID configuration), with the standard headers."""
    return _send(method, settings.ABDM_GATEWAY_URL, path, headers={}, timeout=timeout)


def gateway_url(url: str, *, timeout: float | None = None) -> dict | list | None:
    """GET an absolute URL the gateway published (the JWKS `jwks_uri`), with the session bearer and headers."""
    return _authorised("GET", url, "", headers={}, timeout=timeout)


def unavailable_message() -> str:
    """The translated 'ABDM is not answering' text (for pages that need it without an exception)."""
    return gettext("ABDM is not answering. Please try again in a minute.")
