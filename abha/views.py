"""Pages: the enrollment wizard (one page per step, state in the OTP transaction), citizen sign-in
and the citizen's home. Thin: each view parses a form, calls one service, renders or redirects.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from abdm import m1
from core.exceptions import DomainError
from core.services import client_ip
from core.sms import mask_mobile

from . import card, selectors, services
from .enums import Channel, OtpPurpose
from .forms import (
    AadhaarForm,
    AadhaarOtpForm,
    AddressForm,
    ChooseAccountForm,
    ConsentForm,
    ContactForm,
    NewAddressForm,
    NewMobileForm,
    OtpForm,
    SignInForm,
)
from .identifiers import abha_number_display, address_full
from .models import CURRENT_CONSENT_VERSION, AbhaAccount, OtpTransaction

ENROL_TXN = "abha_enrol_txn"
ENROL_CONSENT = "abha_enrol_consent"
ENROL_FACILITY = "abha_enrol_facility"
# Where the citizen came from (e.g. a counter's /scan/ page) so the done page can send them back.
ENROL_NEXT = "abha_enrol_next"
ENROLLED = "abha_enrolled"
ENROLLED_EXISTING = "abha_enrolled_existing"
LOGIN_TXN = "abha_login_txn"
BACKEND = "django.contrib.auth.backends.ModelBackend"
CHANGE_TXN = "abha_change_txn"


def _steps(current: int) -> dict:
    labels = [_("Consent"), _("Aadhaar"), _("OTP"), _("Mobile"), _("ABHA address")]
    return {"steps": labels, "step": current, "step_count": len(labels)}


def _posted(request):
    """The POST data for a form, or None on GET (an empty POST still binds and shows errors)."""
    return request.POST if request.method == "POST" else None


def _show_error(form, error: DomainError) -> None:
    """Puts a service's error on the form: per field where the form has it, else on top."""
    placed = False
    for field, field_messages in (error.fields or {}).items():
        if field in form.fields:
            for message in field_messages:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _txn(request, key: str, purpose: str) -> OtpTransaction | None:
    txn_id = request.session.get(key)
    if not txn_id:
        return None
    return OtpTransaction.objects.filter(uuid=txn_id, purpose=purpose, completed_at__isnull=True).first()


# The page of each step of an open enrollment transaction (abha.services.enrolment).
STEP_PAGES = {
    "aadhaar_otp": "abha:enrol_otp",
    services.STEP_MOBILE_OTP: "abha:enrol_mobile",
    services.STEP_ADDRESS: "abha:enrol_address",
}


def _enrol_step(step: str):
    """The page needs an open enrollment transaction at `step` (else: the page of the step it is at)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            txn = _txn(request, ENROL_TXN, OtpPurpose.ENROL)
            if txn is None:
                return redirect("abha:enrol_start")
            if txn.step != step:
                return redirect(STEP_PAGES.get(txn.step, "abha:enrol_start"))
            return view(request, txn, *args, **kwargs)

        return never_cache(wrapper)

    return decorate


# --- Enrollment wizard (ABDM, Aadhaar OTP) -----------------------------------------------------------


@never_cache
def enrol_start(request):
    """Step 1: the consent text (versioned); accepting it is kept in the session, then the Aadhaar number."""
    next_url = request.GET.get("next", "")
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        request.session[ENROL_NEXT] = next_url
    form = ConsentForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        request.session[ENROL_CONSENT] = CURRENT_CONSENT_VERSION
        return redirect("abha:enrol_aadhaar")
    if request.method == "GET" and request.session.get(ENROL_CONSENT) == CURRENT_CONSENT_VERSION:
        form = ConsentForm(initial={"agree": True})
    context = {"form": form, "consent_version": CURRENT_CONSENT_VERSION, **_steps(1)}
    return render(request, "abha/enrol_consent.html", context)


def _assisting_facility(request):
    facility_uuid = request.session.get(ENROL_FACILITY)
    if not facility_uuid or not request.user.is_authenticated:
        return None
    from facilities.models import Facility

    return Facility.objects.filter(uuid=facility_uuid).first()


@never_cache
def enrol_assisted(request, facility_uuid):
    """Facility staff start an enrollment for a citizen at their facility (the citizen's OTPs are still needed).

    The facility is remembered for the wizard, so the account records who assisted and where.
    """
    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import get_object_or_404

    from core import access
    from facilities.models import Facility

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    facility = get_object_or_404(Facility, uuid=facility_uuid)
    if not access.can(request.user, "act_for", facility):
        raise PermissionDenied
    request.session[ENROL_FACILITY] = str(facility.uuid)
    request.session.pop(ENROL_TXN, None)
    request.session.pop(ENROLLED, None)
    return redirect("abha:enrol_start")


@never_cache
def enrol_aadhaar(request):
    """Step 2: the Aadhaar number; ABDM asks UIDAI to send an OTP to the Aadhaar-linked mobile."""
    if request.session.get(ENROL_CONSENT) != CURRENT_CONSENT_VERSION:
        return redirect("abha:enrol_start")
    form = AadhaarForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            txn = services.enrolment_start(
                aadhaar=form.cleaned_data["aadhaar"],
                consent_version=request.session[ENROL_CONSENT],
                actor=request.user,
                ip=client_ip(request),
                facility=_assisting_facility(request),
                channel=Channel.ASSISTED,
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            request.session[ENROL_TXN] = str(txn.uuid)
            return redirect("abha:enrol_otp")
    context = {"form": form, "facility": _assisting_facility(request), **_steps(2)}
    return render(request, "abha/enrol_aadhaar.html", context)


def _enrolled(request, account: AbhaAccount, *, existing: bool = False):
    request.session.pop(ENROL_TXN, None)
    request.session.pop(ENROL_FACILITY, None)
    if not request.user.is_authenticated:
        login(request, account.user, backend=BACKEND)  # ABDM checked the Aadhaar OTP: signed in
        services.account_language_set(account=account, language=get_language())
    request.session[ENROLLED] = str(account.uuid)
    request.session[ENROLLED_EXISTING] = existing
    return redirect("abha:enrol_done")


@_enrol_step("aadhaar_otp")
def enrol_otp(request, txn):
    """Step 3: the Aadhaar OTP and the mobile for the ABHA; ABDM creates the ABHA (or returns the existing one)."""
    form = AadhaarOtpForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            verified = services.enrolment_verify_aadhaar(
                txn_id=txn.uuid,
                otp=form.cleaned_data["otp"],
                mobile=form.cleaned_data["mobile"],
                actor=request.user,
                request=request,
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            if not verified.is_new:
                return _enrolled(request, verified.account, existing=True)
            return redirect(STEP_PAGES[verified.txn.step])
    context = {"form": form, "sent_to": txn.draft.get("sent_to", ""), **_steps(3)}
    return render(request, "abha/enrol_otp.html", context)


@_enrol_step(services.STEP_MOBILE_OTP)
def enrol_mobile(request, txn):
    """Step 4: the mobile chosen is not the Aadhaar-linked one: ABDM sent it an OTP (send again after 60 s)."""
    form = OtpForm(_posted(request))
    context = {"mobile": mask_mobile(txn.mobile), "resends_left": services.OTP_MAX_RESENDS - txn.resend_count}
    if request.method == "POST" and "resend" in request.POST:
        form = OtpForm()
        try:
            services.enrolment_mobile_resend(txn_id=txn.uuid, ip=client_ip(request))
            messages.success(request, _("We sent a new OTP."))
            return redirect(request.path)
        except DomainError as error:
            context["resend_error"] = error.message
    elif request.method == "POST" and form.is_valid():
        try:
            services.enrolment_verify_mobile(txn_id=txn.uuid, otp=form.cleaned_data["otp"])
        except DomainError as error:
            _show_error(form, error)
        else:
            return redirect("abha:enrol_address")
    context.update(form=form, **_steps(4))
    return render(request, "abha/enrol_mobile.html", context)


@_enrol_step(services.STEP_ADDRESS)
def enrol_address(request, txn):
    """Step 5: choose an ABHA address (ABDM's suggestions, your own, or the default number@suffix)."""
    try:
        suggestions = services.enrolment_suggestions(txn_id=txn.uuid)[:4]
        suggestions_error = ""
    except DomainError as error:
        suggestions, suggestions_error = [], error.message
    form = AddressForm(_posted(request), initial={"choice": suggestions[0] if suggestions else "default"})
    if request.method == "POST" and form.is_valid():
        choice = form.cleaned_data["choice"]
        chosen = form.cleaned_data["custom"] if choice == "custom" else ("" if choice == "default" else choice)
        try:
            account = services.enrolment_complete(
                txn_id=txn.uuid, abha_address=chosen or None, actor=request.user, request=request
            )
        except DomainError as error:
            if error.fields.get("abha_address"):
                form.add_error("custom" if choice == "custom" else None, error.fields["abha_address"][0])
            else:
                form.add_error(None, error.message)
        else:
            return _enrolled(request, account)
    context = {
        "form": form,
        "suggestions": [(s, address_full(s)) for s in suggestions],
        "suggestions_error": suggestions_error,
        "suffix": address_full(""),
        **_steps(5),
    }
    return render(request, "abha/enrol_address.html", context)


@_enrol_step(services.STEP_ADDRESS)
@require_GET
def enrol_address_check(request, txn):
    """The live check of a typed address (JSON for a few lines of JS): its rules, and whether the portal knows it
    taken (ABDM has the final word when it is claimed)."""
    return JsonResponse(selectors.address_availability(request.GET.get("abha_address", "")))


def _enrolled_account(request) -> AbhaAccount | None:
    account_uuid = request.session.get(ENROLLED)
    if not account_uuid:
        return None
    return AbhaAccount.objects.select_related("district", "state").filter(uuid=account_uuid).first()


@never_cache
def enrol_done(request):
    """The ABHA number, address and card of the account this session just created (or found: `existing`)."""
    account = _enrolled_account(request)
    if account is None:
        return redirect("abha:enrol_start")
    primary = account.primary_address
    context = {
        "account": account,
        "primary": primary,
        "existing": request.session.get(ENROLLED_EXISTING, False),
        "next_url": request.session.get(ENROL_NEXT),
    }
    return render(request, "abha/enrol_done.html", context)


@never_cache
def enrolled_card(request, fmt: str):
    """ABDM's card of the account this session just enrolled (also for staff who assisted)."""
    account = _enrolled_account(request)
    if account is None:
        return redirect("abha:enrol_start")
    return _card_response(request, account, fmt)


def _card_response(request, account: AbhaAccount, fmt: str) -> HttpResponse:
    """ABDM's ABHA card (the image as ABDM sends it, or on an A4 page for `pdf`). ABDM not answering: 503 with
    the words; the citizen's ABDM session ended: back to sign-in."""
    try:
        abdm_card = services.account_card(account=account)
        pdf = card.as_pdf(abdm_card) if fmt == "pdf" else None
    except m1.TokenExpired as error:
        messages.info(request, error.message)
        return redirect("abha:signin")
    except DomainError as error:
        response = HttpResponse(str(error.message), status=error.status, content_type="text/plain; charset=utf-8")
        if error.retry_after:
            response["Retry-After"] = str(error.retry_after)
        return response
    if pdf is not None:
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="abha-card-{account.abha_number}.pdf"'
    else:
        response = HttpResponse(abdm_card.content, content_type=abdm_card.content_type)
        name = f"abha-card-{account.abha_number}.{card.extension(abdm_card.content_type)}"
        response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- OTP pages shared by sign-in and the citizen's own changes ----------------------------------------


def _otp_step(request, txn, *, verify, resend, template, on_verified, context):
    """An OTP page: verify(otp) the transaction, or resend() it (button `resend`)."""
    form = OtpForm(_posted(request))
    if request.method == "POST" and "resend" in request.POST:
        form = OtpForm()  # unbound: the resend's refusal (e.g. the wait in seconds) is shown above it, not on it
        try:
            resend()
            messages.success(request, _("We sent a new OTP."))
            return redirect(request.path)
        except DomainError as error:
            context["resend_error"] = error.message
            if error.code in ("otp_locked", "otp_resend_limit"):
                context["start_again"] = True
    elif request.method == "POST" and form.is_valid():
        try:
            txn = verify(form.cleaned_data["otp"])
        except DomainError as error:
            _show_error(form, error)
            if error.code in ("otp_locked", "txn_completed", "txn_expired"):
                context["start_again"] = True
        else:
            return on_verified(txn)
    sent_to = txn.draft.get("sent_to") if isinstance(txn.draft, dict) else ""
    context.update(
        form=form,
        mobile=sent_to or mask_mobile(txn.mobile),
        resends_left=services.OTP_MAX_RESENDS - txn.resend_count,
    )
    return render(request, template, context)


# --- Citizen sign-in (ABDM login) --------------------------------------------------------------------


@never_cache
def signin(request):
    """Sign in with an ABHA number, ABHA address or mobile number; ABDM sends the OTP."""
    form = SignInForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            txn = services.login_start(login_id=form.cleaned_data["login_id"], ip=client_ip(request))
        except DomainError as error:
            _show_error(form, error)
        else:
            request.session[LOGIN_TXN] = str(txn.uuid)
            return redirect("abha:signin_otp")
    return render(request, "abha/signin.html", {"form": form})


def _finish_sign_in(request, txn, abha_number=None):
    account = services.login_finish(txn_id=txn.uuid, abha_number=abha_number, request=request)
    request.session.pop(LOGIN_TXN, None)
    login(request, account.user, backend=BACKEND)
    services.account_language_set(account=account, language=get_language())
    return redirect("abha:home")


@require_POST
def set_language(request):
    """Django's language switch (the cookie, then back to `next`); a signed-in citizen's account keeps the
    language too, so the SMS they get unasked (a doctor's consent request) is in it."""
    response = django_set_language(request)
    account = selectors.account_for_user(request.user)
    if account is not None:
        services.account_language_set(account=account, language=request.POST.get("language", ""))
    return response


@never_cache
def signin_otp(request):
    txn = _txn(request, LOGIN_TXN, OtpPurpose.LOGIN)
    if txn is None:
        return redirect("abha:signin")
    ip = client_ip(request)

    def verified(txn):
        if len(services.login_candidates(txn)) > 1:
            return redirect("abha:signin_choose")
        try:
            return _finish_sign_in(request, txn)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("abha:signin")

    return _otp_step(
        request,
        txn,
        verify=lambda otp: services.login_verify(txn_id=txn.uuid, otp=otp, ip=ip),
        resend=lambda: services.login_resend(txn_id=txn.uuid, ip=ip),
        template="abha/signin_otp.html",
        on_verified=verified,
        context={},
    )


@never_cache
def signin_choose(request):
    """A mobile with several ABHAs (a family's phone): pick whose account to open."""
    txn = _txn(request, LOGIN_TXN, OtpPurpose.LOGIN)
    if txn is None or not txn.verified_at:
        return redirect("abha:signin")
    accounts = services.login_candidates(txn)
    form = ChooseAccountForm(_posted(request), accounts=accounts)
    if request.method == "POST" and form.is_valid():
        try:
            return _finish_sign_in(request, txn, form.cleaned_data["abha_number"])
        except DomainError as error:
            form.add_error(None, error.message)
    return render(request, "abha/signin_choose.html", {"form": form})


# --- Citizen home ------------------------------------------------------------------------------


def _citizen_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        account = selectors.account_for_user(request.user)
        if account is None:
            return redirect(f"{reverse('abha:signin')}")
        return view(request, account, *args, **kwargs)

    return never_cache(wrapper)


# Citizen pages of the apps that build on ABHA (records, Scan & Share). abha may not import them,
# so they are linked by URL name and shown only once that app is installed (the name resolves).
CITIZEN_LINKS = [
    (
        "records:my_records",
        gettext_lazy("My health records"),
        gettext_lazy("Records hospitals linked to your ABHA."),
    ),
    (
        "records:link_find",
        gettext_lazy("Find older records"),
        gettext_lazy("Visits a hospital kept before you had an ABHA: find them and link them with an OTP."),
    ),
    (
        "records:citizen_consents",
        gettext_lazy("Consents"),
        gettext_lazy("Answer hospitals' requests to see your records, and revoke what you granted."),
    ),
    ("records:access_log", gettext_lazy("Record access log"), gettext_lazy("Every time someone read your records.")),
    ("facilities:scan_history", gettext_lazy("Scan & Share history"), gettext_lazy("Where you shared your profile.")),
]


def _citizen_links() -> list[dict]:
    from django.urls import NoReverseMatch

    links = []
    for url_name, title, text in CITIZEN_LINKS:
        try:
            links.append({"url": reverse(url_name), "title": title, "text": text})
        except NoReverseMatch:
            continue
    return links


@_citizen_required
def home(request, account):
    """The citizen's home: profile, ABHA addresses, card, and who accessed the account."""
    context = {
        "account": account,
        "addresses": list(account.addresses.all()),
        "number_display": abha_number_display(account.abha_number),
        "links": _citizen_links(),
    }
    return render(request, "abha/home.html", context)


@_citizen_required
def own_card(request, account, fmt: str):
    return _card_response(request, account, fmt)


# --- Managing the account: contact, addresses, mobile, deactivate / reactivate / delete ----------


@_citizen_required
def contact(request, account):
    """Change the address, pincode and email."""
    initial = {"address": account.address, "pincode": account.pincode, "email": account.email}
    form = ContactForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update_contact(account=account, actor=request.user, request=request, **form.cleaned_data)
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("Your contact details are saved."))
            return redirect("abha:home")
    return render(request, "abha/contact.html", {"form": form})


@_citizen_required
def address_add(request, account):
    """Add another ABHA address, optionally the one shown on the card."""
    form = NewAddressForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            address = services.address_add(
                account=account,
                actor=request.user,
                local=form.cleaned_data["abha_address"],
                make_primary=form.cleaned_data["make_primary"],
                request=request,
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("%(address)s is now yours.") % {"address": address.full})
            return redirect("abha:home")
    return render(request, "abha/address_add.html", {"form": form, "suffix": address_full("")})


@_citizen_required
@require_GET
def address_check_own(request, account):
    return JsonResponse(selectors.address_availability(request.GET.get("abha_address", "")))


CHANGES = {
    OtpPurpose.MOBILE_CHANGE: "abha/change_mobile.html",
    OtpPurpose.DEACTIVATE: "abha/change_deactivate.html",
    OtpPurpose.REACTIVATE: "abha/change_reactivate.html",
    OtpPurpose.DELETE: "abha/change_delete.html",
}


@_citizen_required
def change_start(request, account, purpose: str):
    """Explains a change (mobile, deactivate, reactivate, delete) and sends the confirming OTP."""
    form = NewMobileForm(_posted(request)) if purpose == OtpPurpose.MOBILE_CHANGE else OtpForm()
    if request.method == "POST" and (purpose != OtpPurpose.MOBILE_CHANGE or form.is_valid()):
        try:
            txn = services.account_otp_start(
                account=account,
                actor=request.user,
                purpose=purpose,
                new_mobile=form.cleaned_data.get("mobile", "") if purpose == OtpPurpose.MOBILE_CHANGE else "",
                ip=client_ip(request),
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            request.session[CHANGE_TXN] = str(txn.uuid)
            return redirect("abha:change_confirm")
    return render(request, CHANGES[purpose], {"form": form, "account": account})


@_citizen_required
def change_confirm(request, account):
    """The OTP that confirms the pending change; then it is applied (a new mobile: by ABDM)."""
    txn_id = request.session.get(CHANGE_TXN)
    txn = OtpTransaction.objects.filter(uuid=txn_id, account=account, completed_at__isnull=True).first()
    if txn is None:
        return redirect("abha:home")
    ip = client_ip(request)

    def done():
        request.session.pop(CHANGE_TXN, None)
        if txn.purpose == OtpPurpose.DELETE:
            from django.contrib.auth import logout

            logout(request)
            messages.success(request, _("Your ABHA has been deleted. Its number will never be given to anyone else."))
            return redirect("core:home")
        messages.success(request, CHANGE_DONE[txn.purpose])
        return redirect("abha:home")

    if txn.purpose == OtpPurpose.MOBILE_CHANGE:

        def verify(otp):
            services.mobile_change_confirm(
                account=account, actor=request.user, txn_id=txn.uuid, otp=otp, request=request
            )
            return txn

        def resend():
            raise DomainError(_("To get a new OTP, start the change again."), code="otp_resend_limit")

    else:

        def verify(otp):
            verified = services.otp_verify(txn_id=txn.uuid, otp=otp, purpose=txn.purpose, ip=ip)
            services.account_confirm(
                account=account, actor=request.user, txn_id=txn.uuid, otp="", purpose=txn.purpose, request=request
            )
            return verified

        def resend():
            return services.otp_resend(txn_id=txn.uuid, purpose=txn.purpose, ip=ip)

    return _otp_step(
        request,
        txn,
        verify=verify,
        resend=resend,
        template="abha/change_confirm.html",
        on_verified=lambda _txn: done(),
        context={"purpose": txn.purpose, "purpose_label": txn.get_purpose_display()},
    )


CHANGE_DONE = {
    OtpPurpose.MOBILE_CHANGE: gettext_lazy("Your mobile number has been changed."),
    OtpPurpose.DEACTIVATE: gettext_lazy("Your ABHA is deactivated. You can reactivate it here at any time."),
    OtpPurpose.REACTIVATE: gettext_lazy("Your ABHA is active again."),
}
