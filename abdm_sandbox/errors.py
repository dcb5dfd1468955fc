"""ABDM's error bodies, as the published files give them.

Gateway and M1 operations answer a 4xx/5xx with `{"error": {"code": "ABDM-1xxx", "message": "..."}}`, except
two shapes the gateway spec lists flat: 401 (the API manager's `{"code": "900901", "message", "description"}`)
and 503 (`{"code": "ABDM-1024", "message"}`).
"""

from django.http import JsonResponse

# Codes and messages the published files name (hiecm-gateway.yaml and the M1/M4 files).
NO_DATA = ("ABDM-1001", "No data found")
INVALID_REQUEST = ("ABDM-1015", "Bad Request, invalid response")
UNKNOWN = ("ABDM-9999", "Unknown exception")
UNAVAILABLE = ("ABDM-1024", "Dependent service unavailable")
INVALID_CREDENTIALS = ("900901", "Invalid Credentials")
INVALID_CREDENTIALS_DESCRIPTION = "Invalid Credentials. Make sure you have provided the correct security credentials"


def abdm_error(status: int, code: str, message: str, *, flat: bool | None = None, **extra) -> JsonResponse:
    """A JsonResponse in the spec's error shape for `status`: nested under "error", or flat for 401 and 503
    (override with `flat=`). `extra` keys go beside code and message (e.g. description)."""
    if flat is None:
        flat = status in (401, 503)
    body = {"code": code, "message": message, **extra}
    return JsonResponse(body if flat else {"error": body}, status=status)


def unauthorized(message: str = INVALID_CREDENTIALS[1]) -> JsonResponse:
    return abdm_error(401, INVALID_CREDENTIALS[0], message, description=INVALID_CREDENTIALS_DESCRIPTION, flat=True)


def bad_request(message: str, code: str = INVALID_REQUEST[0]) -> JsonResponse:
    return abdm_error(400, code, message)


def not_found(message: str = NO_DATA[1], code: str = NO_DATA[0], status: int = 404) -> JsonResponse:
    return abdm_error(status, code, message)
