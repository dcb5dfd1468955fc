"""Small helpers the sandbox's views share (also for abdm_sandbox.abha)."""

import functools
import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .errors import abdm_error


class BadBody(Exception):
    def __init__(self, response):
        self.response = response


def json_body(request) -> dict:
    """The request's JSON object; raises BadBody (a 400 ABDM-1006 answer) when it is not one."""
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadBody(abdm_error(400, "ABDM-1006", "Bad Request, invalid request Body")) from None
    if not isinstance(body, dict):
        raise BadBody(abdm_error(400, "ABDM-1006", "Bad Request, invalid request Body"))
    return body


def api_view(*methods: str):
    """A JSON API view: only `methods` (else 405 in ABDM's shape), no CSRF, BadBody turned into its answer."""

    def decorate(func):
        @csrf_exempt
        @functools.wraps(func)
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                answer = abdm_error(405, "ABDM-1015", f"Method {request.method} not allowed here")
                answer["Allow"] = ", ".join(methods)
                return answer
            try:
                return func(request, *args, **kwargs)
            except BadBody as bad:
                return bad.response

        return wrapped

    return decorate


def ok(body, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False)
