"""Writes of the professional registry: draft, submit, verify or reject, facility affiliations.

A professional's ID is their HPR ID number (ABDM's professional registry): they enter it and it is checked against
HPR (`hpr_check`); the portal mints none.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from abdm import hfr
from abdm.client import AbdmError
from core import access
from core.counters import count_add
from core.enums import CountMetric, Role
from core.exceptions import Conflict, DomainError, NotAllowed
from core.services import audit_record

from ..enums import MembershipRole, ProfessionalCategory, RegistryStatus, VerifyDecision
from ..fields import PROFESSIONAL_FIELDS, PROFESSIONAL_REQUIRED_FOR_SUBMISSION
from ..models import Affiliation, Facility, FacilityMembership, Professional
from .registry import abdm_refusal, decision_reason, model_update

# A change to either is checked against HPR again.
HPR_CHECKED_FIELDS = {"hpr_id", "name"}


def hpr_check(professional: Professional) -> None:
    """Check the professional's HPR ID against ABDM's professional registry: HPR knows the ID, under the same name
    (case, spacing, punctuation and a leading "Dr" ignored). Nothing when no ID is entered yet.

    Refuses, each as a message on the `hpr_id` field: another registration here has the ID (409 `hpr_id_taken`);
    HPR has no such ID (400 `hpr_unknown`); HPR has it under another name (400 `hpr_mismatch`); HPR not answering
    (503 `abdm_unavailable`, Retry-After). Queries: one exists(); one HTTP call (HPR search by ID).
    """
    if not professional.hpr_id:
        return
    if Professional.objects.filter(hpr_id=professional.hpr_id).exclude(pk=professional.pk).exists():
        message = _("Another registration in the portal already has this HPR ID.")
        raise Conflict(message, code="hpr_id_taken", fields={"hpr_id": [message]})
    try:
        found = hfr.professional_by_hpr_id(professional.hpr_id)
    except AbdmError as error:
        raise abdm_refusal(error) from None
    if found is None:
        message = _("HPR has no professional with this ID. Check it, or register on HPR first.")
        raise DomainError(message, code="hpr_unknown", fields={"hpr_id": [message]})
    if professional.name and not hfr.person_names_agree(professional.name, found.name):
        message = _("HPR has this ID under the name “%(name)s”. Check the ID, or write your name as HPR has it.") % {
            "name": found.name
        }
        raise DomainError(message, code="hpr_mismatch", fields={"hpr_id": [message]})


def _apply(professional: Professional, data: dict) -> list[str]:
    """Set the registration's fields from `data` (its `facility_uuids` are not a field: `_set_facilities`)."""
    fields = {name: value for name, value in data.items() if name != "facility_uuids"}
    if "hpr_id" in fields:  # as typed or printed: 71-1227-4427-0212; empty is "not given yet"
        typed = str(fields["hpr_id"] or "").strip()
        fields["hpr_id"] = (hfr.normalise_hpr_id(typed) or typed) or None
    # The unique registration number is checked below, with a message that says which number.
    changed = model_update(
        professional, fields=PROFESSIONAL_FIELDS, data=fields, exclude=["user"], validate_constraints=False
    )
    duplicate = (
        Professional.objects.filter(council=professional.council, registration_number=professional.registration_number)
        .exclude(pk=professional.pk)
        .exists()
    )
    if professional.registration_number and duplicate:
        message = _("This registration number is already registered with this council.")
        raise DomainError(message, code="duplicate_registration", fields={"registration_number": [message]})
    if HPR_CHECKED_FIELDS & set(changed):
        hpr_check(professional)
    return changed


def _save(professional: Professional) -> None:
    """Save; a registration number taken by a concurrent request is the same refusal as a checked one."""
    try:
        with transaction.atomic():
            professional.save()
    except IntegrityError:
        message = _("This registration number is already registered with this council.")
        raise DomainError(message, code="duplicate_registration", fields={"registration_number": [message]}) from None


def _set_facilities(professional: Professional, facility_uuids) -> None:
    """Ask to be affiliated with these facilities (any facility in the registry); drop unconfirmed others."""
    if facility_uuids is None:
        return
    facilities = list(Facility.objects.filter(uuid__in=facility_uuids).exclude(status=RegistryStatus.DRAFT))
    if len(facilities) != len(set(facility_uuids)):
        message = _("Choose facilities from the registry.")
        raise DomainError(message, fields={"facility_uuids": [message]})
    wanted = {facility.pk for facility in facilities}
    professional.affiliations.filter(confirmed_at__isnull=True).exclude(facility_id__in=wanted).delete()
    existing = set(professional.affiliations.values_list("facility_id", flat=True))
    Affiliation.objects.bulk_create(
        [Affiliation(professional=professional, facility_id=pk) for pk in wanted - existing]
    )


@transaction.atomic
def professional_create(*, actor, data: dict, request=None) -> Professional:
    """Start the actor's own registration as a draft (one per account)."""
    if not access.can(actor, "add", Professional):
        raise NotAllowed(_("Only staff and doctors may register as professionals."))
    if Professional.objects.filter(user=actor).exists():
        raise Conflict(_("You have already started a registration."), code="already_registered")
    professional = Professional(user=actor, status=RegistryStatus.DRAFT)
    _apply(professional, data)
    _save(professional)
    _set_facilities(professional, data.get("facility_uuids"))
    audit_record(actor=actor, action="professional.create", target=professional, request=request)
    return professional


def _locked(professional: Professional) -> Professional:
    return Professional.objects.select_for_update().get(pk=professional.pk)


@transaction.atomic
def professional_update(*, actor, professional: Professional, data: dict, request=None) -> Professional:
    """Change one's own draft or rejected registration."""
    if not access.can(actor, "change", professional):
        raise NotAllowed(_("Only the professional may change this registration."))
    professional = _locked(professional)
    if professional.status not in (RegistryStatus.DRAFT, RegistryStatus.REJECTED):
        raise Conflict(_("Only a draft or a rejected registration can be changed."), code="not_editable")
    changed = _apply(professional, data)
    _save(professional)
    _set_facilities(professional, data.get("facility_uuids"))
    audit_record(
        actor=actor, action="professional.update", target=professional, details={"fields": changed}, request=request
    )
    return professional


@transaction.atomic
def professional_submit(*, actor, professional: Professional, request=None) -> Professional:
    """Submit (or resubmit after a rejection) a complete registration for verification."""
    if not access.can(actor, "change", professional):
        raise NotAllowed(_("Only the professional may submit this registration."))
    professional = _locked(professional)
    if professional.status not in (RegistryStatus.DRAFT, RegistryStatus.REJECTED):
        raise Conflict(_("Only a draft or a rejected registration can be submitted."), code="not_submittable")
    missing = {
        name: [_("This field is required before submission.")]
        for name in PROFESSIONAL_REQUIRED_FOR_SUBMISSION
        if getattr(professional, f"{name}_id" if name == "district" else name) in (None, "", [])
    }
    if missing:
        raise DomainError(_("Complete the registration before submitting it."), code="incomplete", fields=missing)
    hpr_check(professional)
    resubmission = professional.status == RegistryStatus.REJECTED
    professional.status = RegistryStatus.SUBMITTED
    professional.submitted_at = timezone.now()
    professional.rejection_reason = ""
    professional.save(update_fields=["status", "submitted_at", "rejection_reason", "updated_at"])
    audit_record(
        actor=actor,
        action="professional.resubmit" if resubmission else "professional.submit",
        target=professional,
        request=request,
    )
    return professional


@transaction.atomic
def professional_verify(*, actor, professional: Professional, decision: str, reason: str = "", request=None):
    """An officer of the professional's district (or the state official) approves or rejects.

    Approving needs the HPR ID the professional entered (checked against HPR when entered and at submission); a
    verified doctor whose account is plain facility staff becomes a doctor.
    """
    if not access.can(actor, "verify", professional):
        raise NotAllowed(_("Only a district officer of this district may verify this registration."))
    if professional.user_id == actor.pk:
        raise NotAllowed(_("You cannot verify your own registration."))
    professional = _locked(professional)
    if professional.status != RegistryStatus.SUBMITTED:
        raise Conflict(_("Only a submitted registration can be verified or rejected."), code="not_submitted")
    reason = decision_reason(decision, reason)
    if decision == VerifyDecision.APPROVE:
        if not professional.hpr_id:  # submitted before HPR IDs were entered: back to the professional
            message = _("This registration has no HPR ID: reject it so the professional adds theirs.")
            raise Conflict(message, code="hpr_id_missing")
        professional.status = RegistryStatus.VERIFIED
        professional.verified_at = timezone.now()
        professional.verified_by = actor
        professional.rejection_reason = ""
        user = professional.user
        if professional.category == ProfessionalCategory.DOCTOR and user and user.role == Role.FACILITY_STAFF:
            user.role = Role.DOCTOR
            user.save(update_fields=["role"])
    else:
        professional.status = RegistryStatus.REJECTED
        professional.rejection_reason = reason
    professional.save(update_fields=["status", "verified_at", "verified_by", "rejection_reason", "updated_at"])
    if decision == VerifyDecision.APPROVE:  # dashboard counter, same transaction
        count_add(metric=CountMetric.PROFESSIONALS_VERIFIED, district_lgd=professional.district_id)
    audit_record(
        actor=actor,
        action="professional.verify" if decision == VerifyDecision.APPROVE else "professional.reject",
        target=professional,
        details={"hpr_id": professional.hpr_id or "", **({"reason": reason} if reason else {})},
        request=request,
    )
    return professional


@transaction.atomic
def affiliation_confirm(*, actor, affiliation: Affiliation, request=None) -> Affiliation:
    """The facility's admin confirms that the professional works there; a doctor joins the facility as doctor."""
    if not access.can(actor, "manage_team", affiliation.facility):
        raise NotAllowed(_("Only an admin of this facility may confirm who works there."))
    if affiliation.confirmed_at:
        raise Conflict(_("This affiliation is already confirmed."), code="already_confirmed")
    affiliation.confirmed_at = timezone.now()
    affiliation.confirmed_by = actor
    affiliation.save(update_fields=["confirmed_at", "confirmed_by", "updated_at"])
    professional = affiliation.professional
    if professional.user_id and professional.category == ProfessionalCategory.DOCTOR:
        FacilityMembership.objects.get_or_create(
            facility=affiliation.facility, user_id=professional.user_id, defaults={"role": MembershipRole.DOCTOR}
        )
    audit_record(
        actor=actor,
        action="professional.affiliation_confirm",
        target=professional,
        details={"facility": str(affiliation.facility.uuid)},
        request=request,
    )
    return affiliation
