import logging

from django.db import DatabaseError

from .errors import UNAVAILABLE, UNKNOWN, abdm_error

logger = logging.getLogger(__name__)


class JsonErrorsMiddleware:
    """Faults set on purpose (faults.py) first. Then every answer is JSON in ABDM's error shape: an unknown path
    is ABDM-1001 (404), an exception ABDM-9999 (500, as ABDM's own gateway answers), a database that is down
    ABDM-1024 (503)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/sandbox/"):
            from .faults import matching_fault, play  # noqa: PLC0415 - models load after this module

            try:
                fault = matching_fault(request)
            except DatabaseError:
                logger.exception("database error on %s %s", request.method, request.path)
                return abdm_error(503, *UNAVAILABLE)
            if fault is not None:
                answer = play(fault)
                if answer is not None:
                    return answer
        response = self.get_response(request)
        # Only Django's own HTML pages are replaced: a view's deliberate answer (JSON, or M4's plain-text 404) stays.
        django_page = response.get("Content-Type", "").startswith("text/html")
        if response.status_code == 404 and django_page:
            return abdm_error(404, "ABDM-1001", f"No such operation: {request.method} {request.path}")
        if response.status_code == 405 and django_page:
            allowed = response.get("Allow", "")
            answer = abdm_error(405, "ABDM-1015", f"Method {request.method} not allowed here")
            answer["Allow"] = allowed
            return answer
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DatabaseError):
            logger.exception("database error on %s %s", request.method, request.path)
            return abdm_error(503, *UNAVAILABLE)
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return abdm_error(500, *UNKNOWN)
