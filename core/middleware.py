"""Request middleware owned by core."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from core.exceptions import UpstreamError

LAST_SEEN_KEY = "core:last_seen"


class StaffIdleTimeoutMiddleware:
    """Signs staff and officials out after STAFF_IDLE_MINUTES without a request (shared counter and ward
    computers); citizens keep the normal session age. The time of the last request is kept in the session,
    written at most once a minute. htmx polls (a queue or display board refreshing itself) are not activity:
    they neither keep the session alive nor get signed out, so an always-on display keeps working while any
    real navigation after the idle time asks for the password again. API token calls do not use sessions."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff_account and not _is_poll(request):
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - last_seen > settings.STAFF_IDLE_MINUTES * 60:
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.info(
                        request,
                        _("You were signed out after %(minutes)s min without activity. Please sign in again.")
                        % {"minutes": settings.STAFF_IDLE_MINUTES},
                    )
                    return redirect_to_login(request.get_full_path())
            elif last_seen is None or now - last_seen >= 60:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


def _is_poll(request) -> bool:
    return request.method == "GET" and request.headers.get("HX-Request") == "true"


class RejectNulBytesMiddleware:
    """400 for a NUL byte in the path or the query string, before any view runs.

    PostgreSQL text cannot hold NUL, so a view that passed such a value to a query failed with a 500 (found by
    schemathesis on the Scan & Share queue's `?counter=`). Forms and serializers refuse NUL in the fields they
    parse; paths and query parameters are read directly in many views, so they are refused here, once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            raise BadRequest("NUL byte in the path or the query string")
        return self.get_response(request)


class PrivateNoStoreMiddleware:
    """Pages and API answers for a signed-in person are `Cache-Control: private, no-store`.

    They hold identity and health data: no browser cache, back-forward cache or proxy may keep a copy that outlives
    the session or a consent (a read under consent is refused once it ends; a cached copy would not be). Static
    files never reach this (whitenoise answers them earlier); a view that sets its own Cache-Control keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class ApiErrorsAsJsonMiddleware:
    """With DEBUG on (`make run`), Django answers a URL that matches nothing, or a request it refuses before any
    view (a bad Host, a NUL byte), with its HTML debug page, even under /api/: the error handlers of config/urls.py
    only run with DEBUG off. API clients get the API's JSON error shape in every mode."""

    _HANDLERS = {400: "bad_request", 403: "permission_denied", 404: "page_not_found"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        handler = self._HANDLERS.get(response.status_code)
        if (
            handler
            and settings.DEBUG
            and request.path.startswith("/api/")
            and response.get("Content-Type", "").startswith("text/html")
        ):
            from core import views  # the views import models; middleware is loaded before apps are ready

            return getattr(views, handler)(request)
        return response


class UpstreamErrorMiddleware:
    """An UpstreamError (ABDM refused a call or is not answering) that a view did not catch: its translated message
    on the portal's error page (JSON in the API's shape under /api/), with its status (503 and Retry-After while ABDM
    is not answering), never a 500. DRF views answer it themselves (core.api.errors); views that can keep the
    visitor's input catch it and show the message as a form error instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UpstreamError):
            return None
        from core import views  # the views import models; middleware is loaded before apps are ready

        error = exception.as_domain_error()
        response = views.domain_error_response(request, error)
        if error.retry_after:
            response["Retry-After"] = str(max(1, int(error.retry_after)))
        return response
