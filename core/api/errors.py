"""One error shape for every 4xx the API returns:

{"error": {"code": "invalid", "message": "...", "fields": {"mobile": ["..."]}}}
"""

from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError, UpstreamError


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {message}" for key, value in detail.items() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for item in detail for message in _messages(item)]
    return [str(detail)]


def _fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": _messages(detail)} if detail else {}
    return {}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def exception_handler(exc, context):
    if isinstance(exc, UpstreamError):  # ABDM refused or is not answering: its translated message, 4xx or 503
        exc = exc.as_domain_error()
    if isinstance(exc, DomainError):
        response = Response(error_body(exc.code, exc.message, _fields(exc.fields)), status=exc.status)
        if exc.retry_after:
            response["Retry-After"] = str(max(1, int(exc.retry_after)))
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's handler500 answers in the same shape, and it is logged
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        non_field = fields.get("non_field_errors")
        message = non_field[0] if non_field else _("Some fields are not valid.")
        response.data = error_body("invalid", message, fields)
    else:
        detail = getattr(exc, "detail", "")
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
            code = "throttled"
        response.data = error_body(code, " ".join(_messages(detail)) or str(exc))
    return response
