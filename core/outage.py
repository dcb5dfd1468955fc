"""When PostgreSQL, Redis (cache) or the Celery broker cannot be reached, say so: 503 with `Retry-After`.

The API answers in its error shape, pages with a small translated page that needs neither the database nor the
session. Nothing here keeps state: Django opens a fresh database connection on the next request
(`CONN_HEALTH_CHECKS`), and redis-py and kombu reconnect on their next call, so the portal recovers without a restart.
A server that accepts connections but never answers is bounded by DB_CONNECT_TIMEOUT and REDIS_TIMEOUT (settings).
"""

import logging
import sys

import kombu.exceptions
import redis.exceptions
from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# How long a client should wait before trying again: a database restart or a Redis failover takes seconds.
RETRY_AFTER_SECONDS = 10

# A dependency failing, not our code: a redis ResponseError or a database IntegrityError stays a 500 (a bug).
OUTAGE_ERRORS = (
    # PostgreSQL unreachable, restarting, or the connection dropped mid-query; psycopg also raises it for a deadlock
    # or a cancelled statement, which are transient too: trying again is the right advice.
    OperationalError,
    InterfaceError,  # a connection already closed underneath us
    redis.exceptions.ConnectionError,  # the cache (throttles, OTP rate limits) unreachable
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,  # the Celery broker unreachable when a task is sent
)


def is_outage(error: BaseException | None) -> bool:
    return isinstance(error, OUTAGE_ERRORS)


def unavailable_response(request) -> HttpResponse:
    """503 with Retry-After; JSON in the API's error shape under /api/, otherwise a self-contained page."""
    if request.path.startswith("/api/"):
        message = _("The service is briefly unavailable. Please try again in a few seconds.")
        response = JsonResponse({"error": {"code": "unavailable", "message": message, "fields": {}}}, status=503)
    else:
        # No request context: the auth context processor would touch the session, i.e. the database.
        response = HttpResponse(render_to_string("core/503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def current_outage() -> BaseException | None:
    """The exception being handled when it is an outage (Django's handler500 runs inside its `except`)."""
    error = sys.exc_info()[1]
    return error if is_outage(error) else None


class ServiceUnavailableMiddleware:
    """Turns an outage raised by a view (or DRF, whose handler re-raises it) into a 503.

    Placed last in MIDDLEWARE so it sees view exceptions first. Failures in other middleware (a session saved to the
    database on the way out) reach Django's handler500, which answers the same way (`core.views.server_error`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_outage(exception):
            return None
        logger.warning("503 for %s %s: %s: %s", request.method, request.path, type(exception).__name__, exception)
        return unavailable_response(request)


def enqueue_on_commit(task, *args) -> None:
    """Send `task.delay(*args)` after the surrounding transaction commits.

    The write has already committed when the broker is asked, so an unreachable broker must not turn it into an
    error page: it is logged, and the job stays queued in the database for the sweep that re-sends queued jobs
    (e.g. `facilities.requeue_bulk_uploads`, scheduled in config/celery.py).
    """

    def send():
        try:
            task.delay(*args)  # tests replace .delay to keep tasks in-process
        except (
            kombu.exceptions.OperationalError,
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
        ) as error:
            logger.warning(
                "Task %s%r not sent, the broker is unreachable (%s); the sweep re-sends it", task.name, args, error
            )

    transaction.on_commit(send)
