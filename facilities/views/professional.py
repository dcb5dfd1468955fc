"""Pages of the professional registry: register, the professional's page, verification, affiliations."""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import access
from core.exceptions import DomainError

from .. import selectors, services
from ..enums import RegistryStatus, VerifyDecision
from ..forms import ProfessionalForm, VerifyForm
from ..models import Affiliation, Professional
from .common import decide, refusal_on_form

# What the officer reads once a decision on a professional is made.
DECIDED = {
    VerifyDecision.APPROVE: gettext_lazy("Verified. The HPR ID has been assigned."),
    VerifyDecision.REJECT: gettext_lazy("Rejected. The professional will see your reason."),
}


def _visible(request, uuid) -> Professional:
    return selectors.visible_professional(user=request.user, uuid=uuid)


@login_required
def register(request):
    """Start (or continue) the signed-in person's own registration."""
    own = Professional.objects.filter(user=request.user).first()
    if own is not None:
        return redirect("facilities:professional_edit", own.uuid)
    if not access.can(request.user, "add", Professional):
        raise PermissionDenied
    form = ProfessionalForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form):
            professional = services.professional_create(actor=request.user, data=form.service_data(), request=request)
            return _draft_saved(request, professional)
    return render(request, "facilities/professional_form.html", {"form": form, "professional": None})


@login_required
def edit(request, uuid):
    professional = _visible(request, uuid)
    if not access.can(request.user, "change", professional):
        raise PermissionDenied
    if professional.status not in (RegistryStatus.DRAFT, RegistryStatus.REJECTED):
        return redirect("facilities:professional_detail", professional.uuid)
    form = ProfessionalForm(
        request.POST if request.method == "POST" else None, instance=Professional.objects.get(pk=professional.pk)
    )
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form):
            services.professional_update(
                actor=request.user, professional=professional, data=form.service_data(), request=request
            )
            return _draft_saved(request, professional)
    return render(request, "facilities/professional_form.html", {"form": form, "professional": professional})


def _draft_saved(request, professional):
    messages.success(request, _("Draft saved."))
    return redirect("facilities:professional_detail", professional.uuid)


@login_required
def detail(request, uuid):
    return _detail_page(request, _visible(request, uuid))


def _detail_page(request, professional, status=200, **forms):
    """The professional's page; a decision the officer sent back with errors replaces the empty form."""
    can_verify = professional.status == RegistryStatus.SUBMITTED and access.can(request.user, "verify", professional)
    context = {
        "professional": professional,
        "can_change": access.can(request.user, "change", professional),
        "can_verify": can_verify and professional.user_id != request.user.pk,
        "verify_form": VerifyForm(),
        **forms,
    }
    return render(request, "facilities/professional_detail.html", context, status=status)


@login_required
@require_POST
def submit(request, uuid):
    professional = _visible(request, uuid)
    try:
        services.professional_submit(actor=request.user, professional=professional, request=request)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied from None
        details = " ".join(f"{name}: {' '.join(msgs)}" for name, msgs in (error.fields or {}).items())
        messages.error(request, f"{error.message} {details}".strip())
    else:
        messages.success(request, _("Submitted for verification. The district officer will review it."))
    return redirect("facilities:professional_detail", professional.uuid)


@login_required
@require_POST
def verify(request, uuid):
    professional = _visible(request, uuid)
    verify_professional = partial(services.professional_verify, professional=professional)
    return decide(request, professional, verify_professional, DECIDED, _detail_page)


@login_required
@require_POST
def confirm_affiliation(request, uuid, facility_uuid):
    """The facility's admin confirms that this professional works there."""
    professional = _visible(request, uuid)
    affiliation = get_object_or_404(
        Affiliation.objects.select_related("facility", "professional"),
        professional=professional,
        facility__uuid=facility_uuid,
    )
    try:
        services.affiliation_confirm(actor=request.user, affiliation=affiliation, request=request)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied from None
        messages.error(request, error.message)
    else:
        messages.success(request, _("Confirmed: %(name)s works here.") % {"name": professional.name})
    return redirect("facilities:detail", affiliation.facility.uuid)
