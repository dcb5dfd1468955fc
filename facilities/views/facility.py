"""Pages of the facility registry: the registration wizard, the manager's facility page, the officers' queue."""

from functools import partial, wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core import access
from core.exceptions import DomainError
from core.services import password_set_link
from core.sms import mask_mobile

from .. import posters, selectors, services
from ..enums import FacilityStatus, VerifyDecision
from ..forms import (
    STEP_FORMS,
    STEPS,
    BulkUploadForm,
    CounterForm,
    DirectoryForm,
    InviteForm,
    StatusChangeForm,
    SubmitForm,
    VerifyForm,
)
from ..models import BulkUpload, Counter, Facility, FacilityMembership
from .common import decide, refusal_on_form

STEP_NAMES = [name for name, _label in STEPS]
# What the officer reads once a decision on a facility is made.
DECIDED = {
    VerifyDecision.APPROVE: gettext_lazy("Verified. The facility can now add Scan & Share counters."),
    VerifyDecision.REJECT: gettext_lazy("Rejected. The facility will see your reason."),
}


def _visible(request, uuid) -> Facility:
    return selectors.visible_facility(user=request.user, uuid=uuid)


@login_required
def mine(request):
    """The manager's facilities, with a button to register a new one."""
    return render(
        request,
        "facilities/mine.html",
        {
            "facilities": selectors.my_facilities(user=request.user),
            "can_register": access.can(request.user, "add", Facility),
            "is_officer": access.is_official(request.user),
        },
    )


def _step_context(facility, step):
    steps = []
    for name, label in STEPS:
        url = reverse("facilities:step", args=[facility.uuid, name]) if facility else None
        if facility and name == "review":
            url = reverse("facilities:review", args=[facility.uuid])
        steps.append({"name": name, "label": label, "url": url})
    return {"steps": steps, "current_step": step, "facility": facility}


@login_required
def register(request):
    """Step 1 of the wizard for a new facility; saving it creates the draft."""
    if not access.can(request.user, "add", Facility):
        raise PermissionDenied
    form = STEP_FORMS["basic"](request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form):
            facility = services.facility_create(actor=request.user, data=form.service_data(), request=request)
            return _draft_saved(request, facility, "basic")
    return render(request, "facilities/step.html", {"form": form, **_step_context(None, "basic")})


@login_required
def step(request, uuid, step):
    """One wizard step of an existing draft; every save is kept as the draft."""
    if step not in STEP_FORMS:
        raise Http404
    facility = _visible(request, uuid)
    if not access.can(request.user, "change", facility):
        raise PermissionDenied
    if not facility.is_editable:
        messages.info(request, _("This facility has been submitted and cannot be changed now."))
        return redirect("facilities:detail", facility.uuid)
    form = STEP_FORMS[step](
        request.POST if request.method == "POST" else None, instance=Facility.objects.get(pk=facility.pk)
    )
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form):
            services.facility_update(actor=request.user, facility=facility, data=form.service_data(), request=request)
            return _draft_saved(request, facility, step)
    return render(request, "facilities/step.html", {"form": form, **_step_context(facility, step)})


def hfr_steps(request):
    """How to register a facility on HFR (for a facility not on it yet), and where to come back with the ID.

    Public; a signed-in manager also sees their drafts without an HFR ID, each with a link to enter it.
    """
    drafts = selectors.drafts_without_hfr_id(user=request.user)[:20] if request.user.is_authenticated else []
    return render(request, "facilities/hfr_steps.html", {"drafts": drafts})


def _draft_saved(request, facility, step):
    """After a saved step: the facility page if the manager goes on later, else the wizard's next step."""
    messages.success(request, _("Draft saved."))
    following = STEP_NAMES[STEP_NAMES.index(step) + 1]
    if request.POST.get("later"):
        return redirect("facilities:detail", facility.uuid)
    if following == "review":
        return redirect("facilities:review", facility.uuid)
    return redirect("facilities:step", facility.uuid, following)


@login_required
def review(request, uuid):
    """Everything entered, what is missing, likely duplicates, and the submit button."""
    facility = _visible(request, uuid)
    if not access.can(request.user, "change", facility):
        raise PermissionDenied
    duplicates = selectors.facility_duplicates(facility=facility)
    form = SubmitForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.facility_submit(
                actor=request.user,
                facility=facility,
                confirm_not_duplicate=form.cleaned_data["confirm_not_duplicate"],
                request=request,
            )
        except DomainError as error:
            form.add_error(None, error.message)
            for name, field_messages in (error.fields or {}).items():
                if name not in ("duplicates", "confirm_not_duplicate"):
                    form.add_error(None, f"{_field_label(name)}: {' '.join(field_messages)}")
        else:
            messages.success(request, _("Submitted for verification. The district officer will review it."))
            return redirect("facilities:detail", facility.uuid)
    return render(
        request,
        "facilities/review.html",
        {"form": form, "duplicates": duplicates, **_step_context(facility, "review")},
    )


def _field_label(name: str) -> str:
    try:
        return capfirst(str(Facility._meta.get_field(name).verbose_name))
    except Exception:  # noqa: BLE001 - an unknown name is shown as it is
        return name


@login_required
def detail(request, uuid):
    """The facility page: status, details, counters; the officer's decision form while it is submitted."""
    return _detail_page(request, _visible(request, uuid))


def _detail_page(request, facility, status=200, **forms):
    """The facility page; a form the user sent back with errors replaces its empty one (`counter_form=form`)."""
    can_verify = facility.status == FacilityStatus.SUBMITTED and access.can(request.user, "verify", facility)
    can_manage_team = access.can(request.user, "manage_team", facility)
    context = {
        "facility": facility,
        "can_change": access.can(request.user, "change", facility),
        "can_run_counters": facility.status == FacilityStatus.VERIFIED
        and access.can(request.user, "act_for", facility),
        "can_verify": can_verify,
        "verify_form": VerifyForm(),
        "duplicates": selectors.facility_duplicates(facility=facility) if can_verify else [],
        "counters": selectors.facility_counters(facility=facility),
        "counter_form": CounterForm(),
        "assisted_enrol_url": _assisted_enrol_url(request, facility),
        "status_form": StatusChangeForm() if _can_change_status(request, facility) else None,
        "team": selectors.facility_team(facility=facility),
        "affiliations": selectors.facility_affiliations(facility=facility) if can_manage_team else [],
        "can_manage_team": can_manage_team,
        "invite_form": InviteForm() if can_manage_team else None,
        **forms,
    }
    return render(request, "facilities/detail.html", context, status=status)


def _can_change_status(request, facility) -> bool:
    return facility.status in (FacilityStatus.VERIFIED, FacilityStatus.SUSPENDED) and access.can(
        request.user, "suspend", facility
    )


@login_required
@require_POST
def change_status(request, uuid):
    """An officer suspends, reinstates or closes a verified facility, with a reason."""
    facility = _visible(request, uuid)
    form = StatusChangeForm(request.POST)
    if form.is_valid():
        try:
            services.facility_change_status(actor=request.user, facility=facility, **form.cleaned_data, request=request)
        except DomainError as error:
            if error.status == 403:
                raise PermissionDenied from None
            messages.error(request, error.message)
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Choose an action and give a reason."))
    return redirect("facilities:detail", facility.uuid)


def _assisted_enrol_url(request, facility) -> str | None:
    """The ABHA app's assisted enrollment for this facility, for people who act for it.

    Linked by URL name (facilities may not import abha): no link until that page is installed.
    """
    if facility.status != FacilityStatus.VERIFIED or not access.can(request.user, "act_for", facility):
        return None
    try:
        return reverse("abha:enrol_assisted", args=[facility.uuid])
    except NoReverseMatch:
        return None


@login_required
@require_POST
def verify(request, uuid):
    facility = _visible(request, uuid)
    return decide(request, facility, partial(services.facility_verify, facility=facility), DECIDED, _detail_page)


@login_required
def queue(request):
    """The district officer's work queue: submissions of their districts, oldest first."""
    if not access.is_official(request.user) and not request.user.is_superuser:
        raise PermissionDenied
    entries = [
        {"facility": facility, "duplicates": selectors.facility_duplicates(facility=facility, limit=3)}
        for facility in selectors.work_queue(user=request.user)[:100]
    ]
    professionals = selectors.professional_queue(user=request.user)[:100]
    return render(request, "facilities/queue.html", {"entries": entries, "professionals": professionals})


def _form_on_page(form_class, name: str):
    """A view for a form on the facility page (POST): it gets the facility and the form's valid input.

    The view calls one service and answers. When the form or the service refuses, the facility page shows again
    with the form (`name` in the page's context) saying why: 400.
    """

    def decorate(view):
        @login_required
        @require_POST
        @wraps(view)
        def form_view(request, uuid):
            facility = _visible(request, uuid)
            form = form_class(request.POST)
            if form.is_valid():
                with refusal_on_form(form):
                    return view(request, facility, form.cleaned_data)
            return _detail_page(request, facility, status=400, **{name: form})

        return form_view

    return decorate


@_form_on_page(CounterForm, "counter_form")
def counter_add(request, facility, data):
    counter = services.counter_create(actor=request.user, facility=facility, **data, request=request)
    messages.success(request, _("Counter %(code)s added. Print its QR poster below.") % {"code": counter.code})
    return redirect("facilities:detail", facility.uuid)


@login_required
@require_POST
def counter_toggle(request, uuid, code):
    """The facility's admin switches a counter off (its poster stops working) or on again."""
    facility = _visible(request, uuid)
    counter = get_object_or_404(Counter, facility=facility, code=code)
    counter.facility = facility
    try:
        services.counter_update(actor=request.user, counter=counter, active=not counter.active, request=request)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied from None
        messages.error(request, error.message)
    return redirect(reverse("facilities:detail", args=[facility.uuid]) + "#counters-heading")


@login_required
def counter_poster(request, uuid, code, fmt):
    """The counter's QR poster as PNG or PDF, for anyone who may see the facility."""
    facility = _visible(request, uuid)
    counter = get_object_or_404(Counter, facility=facility, code=code)
    if facility.status != FacilityStatus.VERIFIED or not counter.active:
        raise Http404
    counter.facility = facility
    content_type = "application/pdf" if fmt == "pdf" else "image/png"
    response = HttpResponse(posters.poster_bytes(counter, fmt), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{facility.facility_id}-{counter.code}.{fmt}"'
    return response


@_form_on_page(InviteForm, "invite_form")
def team_invite(request, facility, data):
    invitation = services.invitation_send(actor=request.user, facility=facility, **data, request=request)
    # The same words for every mobile: the page never says whether the number has an account.
    messages.success(
        request,
        _("An invitation was sent to %(mobile)s. They join the team when they accept it.")
        % {"mobile": mask_mobile(invitation.mobile)},
    )
    return redirect(reverse("facilities:detail", args=[facility.uuid]) + "#team-heading")


@never_cache
def invitation(request, token):
    """The link of an invitation SMS: the invitee sees the facility and the role, and accepts or declines.

    A mobile with a staff account accepts signed in to it; otherwise accepting makes a staff account and goes on to
    core's password-set page. A citizen's account is never turned into staff (services.invitation_accept).
    """
    invite = services.invitation_for_token(token)
    if invite is None:
        return render(request, "facilities/invitation.html", {"invitation": None}, status=404)
    if request.method == "POST" and request.POST.get("decision") == "decline":
        services.invitation_decline(token=token, request=request)
        messages.success(request, _("You declined the invitation."))
        return redirect("core:home")
    account = services.invitation_team_account(invite)
    signed_in_as_invitee = account is not None and request.user.is_authenticated and request.user.pk == account.pk
    accepting = request.method == "POST" and request.POST.get("decision") == "accept"
    if accepting and (account is None or signed_in_as_invitee):
        membership, created = services.invitation_accept(
            token=token, user=request.user if signed_in_as_invitee else None, request=request
        )
        if created:
            return redirect(password_set_link(membership.user))
        messages.success(request, _("You joined the team of %(facility)s.") % {"facility": invite.facility.name})
        return redirect("facilities:detail", invite.facility.uuid)
    context = {
        "invitation": invite,
        "needs_sign_in": account is not None and not signed_in_as_invitee,
        "login_url": f"{reverse('core:login')}?{urlencode({'next': request.path})}",
    }
    return render(request, "facilities/invitation.html", context)


@login_required
@require_POST
def team_remove(request, uuid, member):
    facility = _visible(request, uuid)
    membership = get_object_or_404(FacilityMembership.objects.select_related("user"), facility=facility, uuid=member)
    membership.facility = facility
    try:
        services.membership_remove(actor=request.user, membership=membership, request=request)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied from None
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(name)s was removed from the team.") % {"name": membership.user})
    return redirect(reverse("facilities:detail", args=[facility.uuid]) + "#team-heading")


DIRECTORY_PAGE_SIZE = 20


def directory(request):
    """Public search of verified facilities and professionals, with the number found and pages."""
    form = DirectoryForm(request.GET or None)
    cleaned = form.cleaned_data if form.is_valid() else {}
    kind = cleaned.get("kind") or "facilities"
    district = cleaned.get("district")
    if kind == "professionals":
        results = selectors.directory_professionals(
            q=cleaned.get("q") or None,
            district_lgd=district.pk if district else None,
            category=cleaned.get("category") or None,
            system=cleaned.get("system") or None,
        )
    else:
        results = selectors.directory_facilities(
            q=cleaned.get("q") or None,
            district_lgd=district.pk if district else None,
            facility_type=cleaned.get("facility_type") or None,
            system=cleaned.get("system") or None,
        )
    page = selectors.directory_page(
        results, searching=bool(cleaned.get("q")), number=request.GET.get("page"), page_size=DIRECTORY_PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "facilities/directory.html",
        {"form": form, "kind": kind, "page": page, "query": query.urlencode()},
    )


# --- Bulk onboarding ------------------------------------------------------------------------


def _require_official(request):
    if not (access.is_official(request.user) or request.user.is_superuser):
        raise PermissionDenied


@login_required
def bulk(request):
    """Upload a CSV of government facilities; the list of this official's uploads."""
    _require_official(request)
    form = BulkUploadForm(request.POST if request.method == "POST" else None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form):
            upload = services.bulk_upload_create(
                actor=request.user, uploaded_file=form.cleaned_data["file"], request=request
            )
            return redirect("facilities:bulk_detail", upload.uuid)
    uploads = access.scope(request.user, BulkUpload.objects.all()).order_by("-created_at")[:20]
    return render(request, "facilities/bulk.html", {"form": form, "uploads": uploads})


def _visible_upload(request, uuid) -> BulkUpload:
    upload = get_object_or_404(BulkUpload, uuid=uuid)
    if not access.can(request.user, "view", upload):
        raise Http404
    return upload


@login_required
def bulk_detail(request, uuid):
    """One upload's live progress (a small poller reads bulk_status) and its error report."""
    _require_official(request)
    return render(request, "facilities/bulk_detail.html", {"upload": _visible_upload(request, uuid)})


@login_required
def bulk_status(request, uuid):
    upload = _visible_upload(request, uuid)
    return JsonResponse(
        {
            "status": upload.status,
            "status_label": str(upload.get_status_display()),
            "total_rows": upload.total_rows,
            "processed_rows": upload.processed_rows,
            "percent": upload.percent,
            "created": upload.created_count,
            "updated": upload.updated_count,
            "rows_with_errors": upload.error_count,
            "message": upload.message,
        }
    )


@login_required
def bulk_errors(request, uuid):
    upload = _visible_upload(request, uuid)
    if not upload.error_report:
        raise Http404
    return FileResponse(upload.error_report.open("rb"), as_attachment=True, filename=f"errors-{upload.uuid}.csv")
