"""OpenAPI for the portal's API: every operation lists the error responses it can really give.

drf-spectacular documents what a view declares (its success bodies). The errors come from machinery the views share,
so they are added here from the same machinery, in the one error shape (`core/api/errors.py`):

- 400 when the operation reads input (a request body or query parameters): a value that does not validate, or a
  NUL byte anywhere in the query string (`core.middleware.RejectNulBytesMiddleware`);
- 401 when it authenticates (a missing, wrong or revoked token);
- 403 when it needs a signed-in caller (signed in, but this role or this object is not theirs);
- 404 when its path names an object, or it pages a list (a page past the end);
- 429 when it is throttled, with `Retry-After`;
- 503 always, with `Retry-After`: the database, cache or broker is briefly unreachable (`core/outage.py`).

Anything else a view answers (a 409 from a state change, a 403 or 404 on an open endpoint) it declares itself with
`errors(...)`: `responses={201: OutSerializer, **errors(404, 409)}`.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

REASONS = {
    400: "The input is not valid: `fields` says which fields and why.",
    401: "No valid token (or session) was given.",
    403: "Signed in, but this role may not do this, or not to this object.",
    404: "No such object, or not one you may see; or a page past the end.",
    409: "The object's current state does not allow this (code says which rule).",
    413: "The upload is larger than allowed.",
    429: "Too many requests: wait the `Retry-After` seconds.",
    503: "The service is briefly unavailable (database, cache or broker): try again after `Retry-After` seconds.",
}
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}},
}


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable reason, e.g. `invalid`, `otp_locked`.")
    message = serializers.CharField(help_text="A sentence for people, in the request's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages (400); empty otherwise.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


def errors(*codes: int) -> dict:
    """Error responses a view declares beside its success bodies: `responses={200: Out, **errors(409)}`."""
    return {code: OpenApiResponse(ErrorSerializer, description=REASONS[code]) for code in codes}


class PortalAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            if str(code) not in responses:
                responses[str(code)] = self._error_response(code)
        for code in ("429", "503"):
            if code in responses:
                responses[code].setdefault("headers", RETRY_AFTER)
        return operation

    def _error_codes(self, operation) -> list[int]:
        parameters = operation.get("parameters", [])
        codes = []
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            codes.append(400)
        if self.view.get_authenticators():
            codes.append(401)
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes.append(403)
        if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
            codes.append(404)
        if self.view.get_throttles():
            codes.append(429)
        codes.append(503)
        return codes

    def _error_response(self, code: int) -> dict:
        return self._get_response_for_code(OpenApiResponse(ErrorSerializer, description=REASONS[code]), str(code))
