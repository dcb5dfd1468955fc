"""Scan & Share pages: the patient's scan page (sign in, share, token), the staff queue and the TV display."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from abha import selectors as abha_selectors
from abha import services as abha_services
from abha.enums import OtpPurpose
from abha.forms import ChooseAccountForm, OtpForm, SignInForm
from abha.models import OtpTransaction
from core import access
from core.exceptions import DomainError, NotAllowed
from core.services import client_ip
from core.sms import mask_mobile
from facilities.models import Counter, Facility

from . import selectors, services
from .models import ScanToken

SCAN_LOGIN_TXN = "scan_login_txn"
BACKEND = "django.contrib.auth.backends.ModelBackend"
STEPS = {"call": "call", "done": "done", "no-show": "no_show"}


def scan_help(request):
    """How Scan & Share works: what to scan, what is shared, what the token means."""
    return render(request, "scanshare/scan_help.html", {"validity": services.validity().seconds // 60})


def _scan_url(hip_id: str, counter_code: str) -> str:
    return f"{reverse('scan')}?{urlencode({'hip-id': hip_id, 'counter-id': counter_code})}"


def _login_txn(request) -> OtpTransaction | None:
    txn_id = request.session.get(SCAN_LOGIN_TXN)
    if not txn_id:
        return None
    return OtpTransaction.objects.filter(uuid=txn_id, purpose=OtpPurpose.LOGIN, completed_at__isnull=True).first()


def _posted(request, *names):
    return request.POST if request.method == "POST" and any(name in request.POST for name in names) else None


def _choose_account(request, txn, context):
    """After the OTP: sign in the only ABHA on the mobile, or let the patient pick one of several."""
    back = context["scan_url"]
    accounts = abha_services.login_candidates(txn)
    form = ChooseAccountForm(_posted(request, "abha_number"), accounts=accounts)
    if len(accounts) == 1 or (form.is_bound and form.is_valid()):
        number = form.cleaned_data["abha_number"] if form.is_bound and len(accounts) > 1 else None
        try:
            account = abha_services.login_finish(txn_id=txn.uuid, abha_number=number, request=request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            login(request, account.user, backend=BACKEND)
        request.session.pop(SCAN_LOGIN_TXN, None)
        return redirect(back)
    return render(request, "scanshare/scan.html", {**context, "step": "choose", "form": form})


def _sign_in(request, context):
    """Signs a citizen in on the scan page: ABHA number, address or mobile, then the OTP (abha's services)."""
    back = context["scan_url"]
    if request.method == "POST" and "restart" in request.POST:
        request.session.pop(SCAN_LOGIN_TXN, None)
        return redirect(back)
    txn = _login_txn(request)
    if txn is None:
        form = SignInForm(_posted(request, "login_id"))
        if form.is_bound and form.is_valid():
            try:
                txn = abha_services.login_start(login_id=form.cleaned_data["login_id"], ip=client_ip(request))
            except DomainError as error:
                form.add_error("login_id" if "login_id" in error.fields else None, error.message)
            else:
                request.session[SCAN_LOGIN_TXN] = str(txn.uuid)
                return redirect(back)
        return render(request, "scanshare/scan.html", {**context, "step": "signin", "form": form})
    if txn.verified_at:
        return _choose_account(request, txn, context)
    form = OtpForm(_posted(request, "otp"))
    if request.method == "POST" and "resend" in request.POST:
        try:
            abha_services.otp_resend(txn_id=txn.uuid, purpose=OtpPurpose.LOGIN, ip=client_ip(request))
            messages.success(request, _("We sent a new OTP."))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect(back)
    if form.is_bound and form.is_valid():
        try:
            abha_services.otp_verify(
                txn_id=txn.uuid, otp=form.cleaned_data["otp"], purpose=OtpPurpose.LOGIN, ip=client_ip(request)
            )
        except DomainError as error:
            form.add_error("otp" if "otp" in error.fields else None, error.message)
        else:
            txn.refresh_from_db()
            return _choose_account(request, txn, context)
    context.update(step="otp", form=form, mobile=mask_mobile(txn.mobile))
    return render(request, "scanshare/scan.html", context)


@never_cache
def scan(request):
    """The page a counter's QR opens: `/scan/?hip-id=<facility ID>&counter-id=<code>`.

    Shows what is wrong with a bad QR; signs a citizen in on the same page; then shows the profile to be shared
    and the consent line, and the Share button issues the token.
    """
    hip_id = request.GET.get("hip-id", "")
    counter_code = request.GET.get("counter-id", "")
    if not hip_id and not counter_code:
        return redirect("facilities:scan_help")
    try:
        counter = services.counter_for_scan(hip_id=hip_id, counter_code=counter_code)
    except DomainError as error:
        return render(request, "scanshare/scan.html", {"problem": error.message}, status=error.status)
    context = {"counter": counter, "facility": counter.facility, "scan_url": _scan_url(hip_id, counter.code)}
    account = abha_selectors.account_for_user(request.user)
    if account is None:
        if request.user.is_authenticated:
            context["staff_signed_in"] = True
            return render(request, "scanshare/scan.html", context)
        return _sign_in(request, context)
    if request.method == "POST" and "share" in request.POST:
        try:
            token, _created = services.token_issue(
                account=account, actor=request.user, hip_id=hip_id, counter_code=counter.code, request=request
            )
        except DomainError as error:
            context["problem"] = error.message
            return render(request, "scanshare/scan.html", context, status=error.status)
        return redirect("facilities:scan_token", uuid=token.uuid)
    context.update(step="share", account=account, profile=services.profile_snapshot(account))
    return render(request, "scanshare/scan.html", context)


def _own_token(request, uuid) -> ScanToken:
    account = abha_selectors.account_for_user(request.user)
    token = ScanToken.objects.select_related("facility", "counter").filter(uuid=uuid).first()
    if account is None or token is None or token.patient_id != account.pk:
        raise Http404
    return token


@never_cache
def scan_token(request, uuid):
    """The patient's token: large number, counter, validity and time."""
    return render(request, "scanshare/scan_token.html", {"token": _own_token(request, uuid)})


@never_cache
def scan_history(request):
    """The citizen's past shares (facility, counter, date, token)."""
    account = abha_selectors.account_for_user(request.user)
    if account is None:
        return redirect("abha:signin")
    return render(request, "scanshare/scan_history.html", {"tokens": selectors.citizen_shares(account)})


# --- Staff -----------------------------------------------------------------------------------


def _staff_facility(request, uuid) -> Facility:
    facility = get_object_or_404(Facility, uuid=uuid)
    if not access.can(request.user, "act_for", facility):
        raise Http404
    return facility


def _chosen_counter(request, facility) -> Counter | None:
    code = request.GET.get("counter", "")
    return facility.counters.filter(code=code).first() if code else None


def _queue_context(request, facility) -> dict:
    counter = _chosen_counter(request, facility)
    return {
        "facility": facility,
        "counter": counter,
        "counters": list(facility.counters.active()),
        "tokens": list(selectors.queue_tokens(facility=facility, counter=counter)),
        "query": request.GET.urlencode(),
    }


@login_required
@never_cache
def scan_queue(request, uuid):
    """Today's tokens at the staff's facility (one counter or all), refreshed in place by htmx polling."""
    facility = _staff_facility(request, uuid)
    context = _queue_context(request, facility)
    context["counts"] = selectors.daily_counts(facility=facility)
    template = "scanshare/_scan_queue_rows.html" if request.htmx else "scanshare/scan_queue.html"
    return render(request, template, context)


@login_required
@require_POST
def scan_call_next(request, uuid, code):
    facility = _staff_facility(request, uuid)
    counter = get_object_or_404(Counter, facility=facility, code=code)
    try:
        token = services.token_call_next(counter=counter, actor=request.user, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if token is None:
            messages.info(request, _("Nobody is waiting at %(code)s.") % {"code": code})
        else:
            messages.success(request, _("Token %(number)s called.") % {"number": token.number})
    return redirect(f"{reverse('facilities:scan_queue', args=[facility.uuid])}?counter={code}")


@login_required
@require_POST
def scan_token_step(request, uuid, step):
    token = get_object_or_404(ScanToken.objects.select_related("facility", "counter"), uuid=uuid)
    if step not in STEPS or not access.can(request.user, "act_for", token.facility):
        raise Http404
    try:
        services.token_move(token=token, actor=request.user, step=STEPS[step], request=request)
    except DomainError as error:
        messages.error(request, error.message)
    back = request.POST.get("back", "")
    query = f"?{back}" if back and "//" not in back else ""
    return redirect(f"{reverse('facilities:scan_queue', args=[token.facility.uuid])}{query}")


# The waiting-hall TV speaks the state's language and English (Gujarat: Gujarati).
DISPLAY_LANGUAGES = ("gu", "en")
DISPLAY_REFRESH_SECONDS = 3
DISPLAY_UPCOMING = 4  # next tokens that fit a 16:9 screen in type read from across the hall
DISPLAY_FALLBACK_REFRESH_SECONDS = 10  # the meta refresh when the screen's browser runs no JavaScript


def _display_page(request, counter):
    """The kiosk page (or, for htmx's poll, its board): counter and token numbers only, nothing about patients."""
    context = {
        "facility": counter.facility,
        "counter": counter,
        "languages": DISPLAY_LANGUAGES,
        "refresh_seconds": DISPLAY_REFRESH_SECONDS,
        "fallback_refresh_seconds": DISPLAY_FALLBACK_REFRESH_SECONDS,
        **selectors.display_board(facility=counter.facility, counter=counter, upcoming=DISPLAY_UPCOMING),
    }
    template = "scanshare/_scan_display_board.html" if request.htmx else "scanshare/scan_display.html"
    return render(request, template, context)


@login_required
@never_cache
def scan_display(request, uuid, code):
    """The waiting-hall TV opened from a staff session (the queue's "TV display" button): the same kiosk page."""
    facility = _staff_facility(request, uuid)
    counter = get_object_or_404(Counter, facility=facility, code=code)
    counter.facility = facility
    return _display_page(request, counter)


@never_cache
def scan_display_kiosk(request, key):
    """The waiting-hall TV by its display key (/display/<key>/): no sign-in, so no staff session sits on a public
    screen. A rotated key, a switched-off counter or a facility no longer verified answers 404."""
    counter = selectors.display_counter(key=key)
    if counter is None:
        raise Http404
    return _display_page(request, counter)


@login_required
@require_POST
def scan_display_key(request, uuid, code):
    """The facility admin makes (or replaces) a counter's TV display address; it is shown once, on the next page."""
    facility = _staff_facility(request, uuid)
    counter = get_object_or_404(Counter, facility=facility, code=code)
    counter.facility = facility
    try:
        key = services.display_key_rotate(counter=counter, actor=request.user, request=request)
    except NotAllowed as refused:  # a plain staff member: the page never offered them the button
        raise PermissionDenied(refused.message) from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(reverse("facilities:detail", args=[facility.uuid]) + "#counters-heading")
    address = request.build_absolute_uri(reverse("scan_display_kiosk", args=[key]))
    messages.success(
        request,
        _(
            "TV display address for %(code)s: %(address)s Open it on the waiting-hall screen. It is shown only "
            "now; any earlier address for this counter no longer works."
        )
        % {"code": counter.code, "address": address},
    )
    return redirect(reverse("facilities:detail", args=[facility.uuid]) + "#counters-heading")
