from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpResponsePermanentRedirect, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app

from .enums import Role
from .forms import StaffLoginForm
from .models import WorkerHeartbeat
from .outage import current_outage, unavailable_response
from .services import audit_record

# The home page's tasks: (url name, title, text, who it is for). A task whose page is not
# installed yet (its URL does not resolve) is simply not shown.
HOME_TASKS = [
    (
        "abha:enrol_start",
        _("Create your ABHA"),
        _("Get your 14-digit ABHA number and card from ABDM with your Aadhaar and mobile number."),
        "citizen",
    ),
    ("abha:signin", _("Sign in to your ABHA"), _("See your health records, consents and who viewed them."), "citizen"),
    (
        "facilities:scan_help",
        _("Scan & Share"),
        _("Scan the QR code at the hospital counter and get your OPD token."),
        "citizen",
    ),
    (
        "facilities:directory",
        _("Find a hospital or doctor"),
        _("Search verified facilities and professionals near you."),
        "citizen",
    ),
    (
        "facilities:register",
        _("Register a facility"),
        _("Hospital and clinic staff: add your facility to the registry."),
        "staff",
    ),
    ("facilities:mine", _("My facilities"), _("Drafts, submissions, counters, QR posters and your team."), "staff"),
    (
        "facilities:professional_register",
        _("Register as a health professional"),
        _("Doctors and nurses: get your professional ID."),
        "staff",
    ),
    ("records:facility_home", _("Health records"), _("Add records for your patients and request consent."), "staff"),
    (
        "microsites:dashboard",
        _("State dashboards"),
        _("ABHA coverage, records linked, facilities and microsite progress."),
        "official",
    ),
    (
        "facilities:queue",
        _("Verification queue"),
        _("Facilities and professionals waiting for your decision, oldest first."),
        "official",
    ),
    (
        "facilities:bulk",
        _("Upload government facilities"),
        _("Add or update many facilities from a CSV or Excel file."),
        "official",
    ),
    ("admin:index", _("Administration"), _("Verify registrations and manage accounts for your districts."), "official"),
]


def _available_tasks(audience: str):
    tasks = []
    for url_name, title, text, who in HOME_TASKS:
        if who != audience:
            continue
        try:
            tasks.append({"url": reverse(url_name), "title": title, "text": text})
        except NoReverseMatch:
            continue
    return tasks


def home(request):
    user = request.user
    context = {
        "citizen_tasks": _available_tasks("citizen"),
        "staff_tasks": _available_tasks("staff"),
        "official_tasks": _available_tasks("official"),
        "role": getattr(user, "role", None) if user.is_authenticated else None,
        "Role": Role,
    }
    return render(request, "core/home.html", context)


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Where a newly invited staff member (or one whose admin sent a new link) chooses a password."""

    template_name = "core/password_set.html"
    success_url = reverse_lazy("core:login")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(actor=form.user, action="auth.password_set", target=form.user, request=self.request)
        messages.success(self.request, _("Your password is set. Sign in with your username and the new password."))
        return response


def _ping_broker() -> None:
    """Raises when the Celery broker cannot be reached. Redis is pinged: connecting is lazy."""
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        client = getattr(conn.default_channel, "client", None)
        if client is not None and hasattr(client, "ping"):
            client.ping()


@never_cache
@require_GET
def healthz(request):
    """200 when the database and the broker answer, 503 otherwise; also the worker's last heartbeat."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"; reported, not raised
        checks["database"] = f"error: {type(error).__name__}"
    try:
        _ping_broker()
        checks["broker"] = "ok"
    except Exception as error:  # noqa: BLE001 - same: report the broker as unreachable
        checks["broker"] = f"error: {type(error).__name__}"
    healthy = checks["database"] == "ok" and checks["broker"] == "ok"
    worker = None
    if checks["database"] == "ok":
        beat = WorkerHeartbeat.objects.filter(name="celery").first()
        if beat:
            worker = {
                "last_seen": beat.seen_at.isoformat(),
                "age_seconds": int((timezone.now() - beat.seen_at).total_seconds()),
            }
    body = {"status": "ok" if healthy else "unavailable", "checks": checks, "worker": worker}
    response = JsonResponse(body, status=200 if healthy else 503)
    if not healthy:
        response["Retry-After"] = "30"
    return response


# --- Error pages: JSON in the API's error shape under /api/, HTML elsewhere -------------


def _error(request, status: int, code: str, message: str, template: str):
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": code, "message": str(message), "fields": {}}}, status=status)
    return render(request, template, {"status": status, "message": message}, status=status)


def domain_error_response(request, error):
    """A DomainError as an answer of its own (its status, its message): core.middleware.UpstreamErrorMiddleware."""
    return _error(request, error.status, error.code, error.message, "core/error.html")


def bad_request(request, exception=None):
    return _error(request, 400, "bad_request", _("The request could not be understood."), "core/error.html")


def permission_denied(request, exception=None):
    return _error(
        request, 403, "permission_denied", _("You do not have permission to see this page."), "core/error.html"
    )


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the portal's own page (Django's has an inline <style> that the CSP blocks)."""
    return _error(
        request,
        403,
        "csrf_failed",
        _("This form has expired or was not sent from this site. Go back, reload the page and try again."),
        "core/error.html",
    )


def page_not_found(request, exception=None):
    return _error(request, 404, "not_found", _("This page does not exist."), "core/error.html")


def server_error(request):
    # An outage raised outside a view (a session saved on the way out) still gets its 503, not a 500.
    if current_outage() is not None:
        return unavailable_response(request)
    # No request context: the database may be what failed, and the page must still render.
    if request.path.startswith("/api/"):
        message = _("Something went wrong on our side. Please try again.")
        return JsonResponse({"error": {"code": "server_error", "message": str(message), "fields": {}}}, status=500)
    return HttpResponseServerError(render_to_string("core/500.html"))


def favicon(request):
    """Browsers ask for /favicon.ico whatever a page links: the static one, permanently (so asked once). The static
    URL is looked up per request: at import, production's manifest may not be collected yet."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))
