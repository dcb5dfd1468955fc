"""Writes of the facility registry. Each checks the actor's role and the facility's state, and is audited."""

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from abdm import bridge_services, hfr
from abdm.client import AbdmError
from core import access
from core.enums import Role
from core.exceptions import Conflict, DomainError, NotAllowed, NotFound
from core.models import User
from core.services import audit_record
from core.sms import mask_mobile, send_on_commit

from ..counting import facility_district_counted, facility_status_counted
from ..enums import FacilityStatus, InvitationStatus, MembershipRole, VerifyDecision
from ..fields import FACILITY_FIELDS, FACILITY_REQUIRED_FOR_SUBMISSION
from ..models import Counter, Facility, FacilityMembership, Invitation, mobile_validator
from ..selectors import facility_duplicates
from .registry import abdm_refusal, decision_reason, model_update, validation_error

# A change to any of these is checked against HFR again (the ID names the facility; the others must agree with it).
HFR_CHECKED_FIELDS = {"facility_id", "name", "state", "district"}


def _require(actor, action: str, obj, message) -> None:
    if not access.can(actor, action, obj):
        raise NotAllowed(message)


def _apply(facility: Facility, data: dict) -> list[str]:
    if "facility_id" in data:  # as typed: any case, spaces; empty is "no HFR ID yet"
        data = {**data, "facility_id": re.sub(r"\s+", "", str(data["facility_id"] or "")).upper() or None}
    return model_update(facility, fields=FACILITY_FIELDS, data=data, exclude=[])


def hfr_mismatch_message(field: str, value: str) -> str:
    if field == "name":
        return _("HFR has this facility under the name “%(value)s”.") % {"value": value}
    if field == "state":
        return _("HFR has this facility in the state %(value)s.") % {"value": value}
    return _("HFR has this facility in the district %(value)s.") % {"value": value}


def hfr_check(facility: Facility) -> None:
    """Check the facility's HFR ID against ABDM's facility registry: the ID exists there, and the name, state and
    district entered so far agree with HFR's (case, spacing and punctuation ignored). Nothing when it has no ID.

    Refuses: another entry here has the ID (409 `hfr_id_taken`); HFR has no such ID (400 `hfr_unknown`); a field
    differs (400 `hfr_mismatch`, a message on each field that differs, saying what HFR has); HFR not answering
    (503 `abdm_unavailable`, Retry-After). Queries: one exists(); one HTTP call (HFR facility search by ID).
    """
    if not facility.facility_id:
        return
    if Facility.objects.filter(facility_id=facility.facility_id).exclude(pk=facility.pk).exists():
        message = _("Another registration in the portal already has this HFR ID.")
        raise Conflict(message, code="hfr_id_taken", fields={"facility_id": [message]})
    try:
        found = hfr.facility_by_id(facility.facility_id)
    except AbdmError as error:
        raise abdm_refusal(error) from None
    if found is None:
        message = _("HFR has no facility with this ID. Check it, or register the facility on HFR first.")
        raise DomainError(message, code="hfr_unknown", fields={"facility_id": [message]})
    differences = hfr.facility_disagreements(
        found,
        name=facility.name,
        state_lgd=facility.state_id,
        state_name=facility.state.name if facility.state_id else "",
        district_lgd=facility.district_id,
        district_name=facility.district.name if facility.district_id else "",
    )
    if differences:
        raise DomainError(
            _("The details differ from HFR's entry for %(id)s: correct them, or check the HFR ID.")
            % {"id": facility.facility_id},
            code="hfr_mismatch",
            fields={d.field: [hfr_mismatch_message(d.field, d.registry_value)] for d in differences},
        )


def _locked(facility: Facility) -> Facility:
    """The facility's row, locked for this transaction, so two officers cannot both decide it."""
    return Facility.objects.select_for_update().get(pk=facility.pk)


@transaction.atomic
def facility_create(*, actor, data: dict, request=None) -> Facility:
    """Create a draft facility from `data` (any subset of FACILITY_FIELDS); the actor becomes its admin.

    An HFR ID given is checked against HFR first (`hfr_check`; without one the draft waits for the manager to
    register the facility on HFR). Inserts the facility, the actor's admin membership and an audit row.
    """
    _require(actor, "add", Facility, _("Only facility staff may register a facility."))
    facility = Facility(status=FacilityStatus.DRAFT, created_by=actor)
    _apply(facility, data)
    hfr_check(facility)
    facility.save()
    facility_status_counted(facility=facility, old_status=None)
    FacilityMembership.objects.create(facility=facility, user=actor, role=MembershipRole.ADMIN)
    audit_record(actor=actor, action="facility.create", target=facility, request=request)
    return facility


@transaction.atomic
def facility_update(*, actor, facility: Facility, data: dict, request=None) -> Facility:
    """Change a draft or rejected facility (its admin only); audited with the names of the changed fields.

    A change of the HFR ID, name, state or district is checked against HFR (`hfr_check`) before it is saved.
    """
    _require(actor, "change", facility, _("Only an admin of this facility may change it."))
    facility = _locked(facility)
    if not facility.is_editable:
        raise Conflict(_("Only a draft or a rejected facility can be changed."), code="not_editable")
    old_district_id = facility.district_id
    changed = _apply(facility, data)
    if HFR_CHECKED_FIELDS & set(changed):
        hfr_check(facility)
    if changed:
        facility.save()
        facility_district_counted(facility=facility, old_district_id=old_district_id)
        audit_record(
            actor=actor, action="facility.update", target=facility, details={"fields": changed}, request=request
        )
    return facility


def _missing_for_submission(facility: Facility) -> dict:
    missing = {}
    for name in FACILITY_REQUIRED_FOR_SUBMISSION:
        value = getattr(facility, f"{name}_id" if name in ("state", "district") else name)
        if value in (None, "", []):
            missing[name] = [_("This field is required before submission.")]
    return missing


@transaction.atomic
def facility_submit(*, actor, facility: Facility, confirm_not_duplicate: bool = False, request=None) -> Facility:
    """Submit a complete draft (or resubmit a corrected rejected facility) for verification.

    Needs the facility's HFR ID (400 `hfr_id_missing`: a facility not on HFR stays a draft until it is) and checks
    it, the name, state and district against HFR again (`hfr_check`). Refuses (409 `possible_duplicates`) while
    likely duplicates exist and the manager has not confirmed that this is a different facility. Clears the last
    rejection reason.
    """
    _require(actor, "change", facility, _("Only an admin of this facility may submit it."))
    facility = _locked(facility)
    if not facility.is_editable:
        raise Conflict(_("Only a draft or a rejected facility can be submitted."), code="not_submittable")
    missing = _missing_for_submission(facility)
    if missing:
        raise DomainError(_("Complete the facility before submitting it."), code="incomplete", fields=missing)
    if not facility.facility_id:
        message = _("Enter the facility's HFR ID. A facility not yet on HFR registers there first.")
        raise DomainError(
            _("A facility needs its HFR ID before it is submitted."),
            code="hfr_id_missing",
            fields={"facility_id": [message]},
        )
    hfr_check(facility)
    duplicates = facility_duplicates(facility=facility)
    if duplicates and not confirm_not_duplicate:
        raise Conflict(
            _("Similar facilities are already registered. Confirm that this is a different facility."),
            code="possible_duplicates",
            fields={
                "duplicates": [f"{d.facility.facility_id} {d.facility.name} ({d.facility.pincode})" for d in duplicates]
            },
        )
    resubmission = facility.status == FacilityStatus.REJECTED
    old_status = facility.status
    facility.status = FacilityStatus.SUBMITTED
    facility.submitted_at = timezone.now()
    facility.rejection_reason = ""
    facility.save(update_fields=["status", "submitted_at", "rejection_reason", "updated_at"])
    facility_status_counted(facility=facility, old_status=old_status)
    audit_record(
        actor=actor,
        action="facility.resubmit" if resubmission else "facility.submit",
        target=facility,
        details={
            "facility_id": facility.facility_id,
            "duplicates_confirmed": [d.facility.facility_id for d in duplicates],
        },
        request=request,
    )
    return facility


@transaction.atomic
def facility_verify(*, actor, facility: Facility, decision: str, reason: str = "", request=None) -> Facility:
    """A district officer of the facility's district (or the state official) approves or rejects a submission.

    Rejecting needs a reason, which the manager sees. Members of the facility never verify it. Approving queues,
    in the same transaction, the facility's registration as an active HIP service of the state's bridge on ABDM
    (abdm.bridge_services, through the outbox): the verification commits whether or not ABDM answers now, and
    the facility is "active HIP on ABDM" once ABDM confirms (facilities.services.hip).
    """
    _require(actor, "verify", facility, _("Only a district officer of this district may verify this facility."))
    if facility.members.filter(pk=actor.pk).exists():
        raise NotAllowed(_("You cannot verify a facility you work at."))
    facility = _locked(facility)
    if facility.status != FacilityStatus.SUBMITTED:
        raise Conflict(_("Only a submitted facility can be verified or rejected."), code="not_submitted")
    reason = decision_reason(decision, reason)
    if decision == VerifyDecision.APPROVE:
        facility.status = FacilityStatus.VERIFIED
        facility.verified_at = timezone.now()
        facility.verified_by = actor
        facility.rejection_reason = ""
    else:
        facility.status = FacilityStatus.REJECTED
        facility.rejection_reason = reason
    facility.save(update_fields=["status", "verified_at", "verified_by", "rejection_reason", "updated_at"])
    facility_status_counted(facility=facility, old_status=FacilityStatus.SUBMITTED)
    if decision == VerifyDecision.APPROVE:
        bridge_services.hip_service_enqueue(
            facility_id=facility.facility_id, name=facility.name, active=True, subject=facility
        )
    audit_record(
        actor=actor,
        action="facility.verify" if decision == VerifyDecision.APPROVE else "facility.reject",
        target=facility,
        details={"reason": reason} if reason else {},
        request=request,
    )
    return facility


# Officers' later decisions: (action, from states, to state).
_OFFICER_TRANSITIONS = {
    "suspend": ((FacilityStatus.VERIFIED,), FacilityStatus.SUSPENDED),
    "reinstate": ((FacilityStatus.SUSPENDED,), FacilityStatus.VERIFIED),
    "close": ((FacilityStatus.VERIFIED, FacilityStatus.SUSPENDED), FacilityStatus.CLOSED),
}


@transaction.atomic
def facility_change_status(*, actor, facility: Facility, action: str, reason: str = "", request=None) -> Facility:
    """Suspend, reinstate or close a verified facility (officers of its district); a reason is required.

    The facility's HIP service on ABDM follows, through the outbox in the same transaction: suspending or closing
    a verified facility deactivates it (active false), reinstating activates it again.
    """
    if action not in _OFFICER_TRANSITIONS:
        raise DomainError(_("Unknown action."), fields={"action": [_("Unknown action.")]})
    _require(actor, "suspend", facility, _("Only a district officer of this district may do this."))
    facility = _locked(facility)
    allowed_from, target = _OFFICER_TRANSITIONS[action]
    if facility.status not in allowed_from:
        raise Conflict(_("This facility is not in a state that allows this."), code="wrong_state")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason."), fields={"reason": [_("This field is required.")]})
    old_status, facility.status = facility.status, target
    facility.save(update_fields=["status", "updated_at"])
    facility_status_counted(facility=facility, old_status=old_status)
    active = target == FacilityStatus.VERIFIED
    if active or old_status == FacilityStatus.VERIFIED:  # closing a suspended facility: already inactive
        bridge_services.hip_service_enqueue(
            facility_id=facility.facility_id, name=facility.name, active=active, subject=facility
        )
    audit_record(actor=actor, action=f"facility.{action}", target=facility, details={"reason": reason}, request=request)
    return facility


# --- Scan & Share counters -------------------------------------------------------------


@transaction.atomic
def counter_create(*, actor, facility: Facility, code: str, name: str, request=None) -> Counter:
    """Add a counter to a verified facility (its admins only). Codes are unique within the facility."""
    _require(actor, "change", facility, _("Only an admin of this facility may add counters."))
    if facility.status != FacilityStatus.VERIFIED:
        raise Conflict(_("Only a verified facility can have Scan & Share counters."), code="not_verified")
    counter = Counter(facility=facility, code=(code or "").strip().upper(), name=(name or "").strip())
    try:
        counter.full_clean(exclude=["facility"], validate_unique=False)
    except ValidationError as error:
        raise validation_error(error) from None
    if Counter.objects.filter(facility=facility, code=counter.code).exists():
        raise Conflict(
            _("This facility already has a counter with this code."),
            code="duplicate_counter",
            fields={"code": [_("This facility already has a counter with this code.")]},
        )
    counter.save()
    audit_record(actor=actor, action="counter.create", target=counter, details={"code": counter.code}, request=request)
    return counter


@transaction.atomic
def counter_update(*, actor, counter: Counter, name: str | None = None, active: bool | None = None, request=None):
    """Rename a counter or switch it on/off (a poster of an inactive counter no longer works)."""
    _require(actor, "change", counter.facility, _("Only an admin of this facility may change counters."))
    changed = {}
    if name is not None and name.strip() != counter.name:
        counter.name = name.strip()
        changed["name"] = counter.name
    if active is not None and active != counter.active:
        counter.active = active
        changed["active"] = active
    if changed:
        try:
            counter.full_clean(exclude=["facility"], validate_unique=False)
        except ValidationError as error:
            raise validation_error(error) from None
        counter.save()
        audit_record(actor=actor, action="counter.update", target=counter, details=changed, request=request)
    return counter


# --- Facility team -----------------------------------------------------------------------

TEAM_ROLES = {MembershipRole.ADMIN: Role.FACILITY_ADMIN, MembershipRole.STAFF: Role.FACILITY_STAFF}


TEAM_ACCOUNT_ROLES = (Role.FACILITY_ADMIN, Role.FACILITY_STAFF, Role.DOCTOR)
INVITATION_TTL = timedelta(days=7)


def _token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


def invitation_link(token: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("facilities:invitation", args=[token])


@transaction.atomic
def invitation_send(
    *, actor, facility: Facility, role: str, mobile: str = "", email: str = "", name: str = "", request=None
) -> Invitation:
    """Invite a person to the facility's team as admin or staff: an Invitation and an SMS with its link.

    The answer is the same for every mobile (an account or not, a citizen's, an official's): nothing here says who
    has an account, and no account gets a role until the invitee accepts (invitation_accept). A pending invitation
    to the same mobile is replaced. Audits `facility.team_invite` (the mobile masked); the SMS goes after the commit.
    Queries: the facility's membership check, the expiry of an older invitation, one insert.
    """
    _require(actor, "manage_team", facility, _("Only an admin of this facility may manage its team."))
    if role not in TEAM_ROLES:
        raise DomainError(_("Choose admin or staff."), fields={"role": [_("Choose admin or staff.")]})
    mobile, email = (mobile or "").strip(), (email or "").strip()
    errors = {}
    try:
        mobile_validator(mobile)
    except ValidationError as error:
        errors["mobile"] = error.messages if mobile else [_("Give the person's mobile number.")]
    try:
        if email:
            validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid email address.")]
    if errors:
        raise DomainError(_("Some fields are not valid."), fields=errors)
    # The admin sees the team already, so saying that someone in it has this mobile tells them nothing new.
    if FacilityMembership.objects.filter(facility=facility, user__mobile=mobile).exists():
        raise Conflict(_("This person is already in the team."), code="already_member")
    Invitation.objects.filter(facility=facility, mobile=mobile, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.EXPIRED, updated_at=timezone.now()
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        facility=facility,
        role=role,
        mobile=mobile,
        email=email,
        name=(name or "").strip()[:150],
        token_hash=_token_hash(token),
        expires_at=timezone.now() + INVITATION_TTL,
        invited_by=actor,
    )
    audit_record(
        actor=actor,
        action="facility.team_invite",
        target=facility,
        details={"invitation": str(invitation.uuid), "role": role, "mobile": mask_mobile(mobile)},
        request=request,
    )
    text = _(
        "%(facility)s invites you to its team on the ABDM State Portal. To accept or decline, open (valid 7 days): "
        "%(link)s"
    ) % {"facility": facility.name, "link": invitation_link(token)}
    send_on_commit(to=mobile, text=text)
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """The open invitation this link's token names (None when unknown, used, declined or expired). One query."""
    return Invitation.objects.pending().select_related("facility").filter(token_hash=_token_hash(token)).first()


def invitation_team_account(invitation: Invitation):
    """The invitee's team account (admin, staff or doctor) on the invited mobile, or None. One query."""
    return User.objects.filter(mobile=invitation.mobile, role__in=TEAM_ACCOUNT_ROLES).order_by("id").first()


def _locked_open(token: str) -> Invitation:
    invitation = (
        Invitation.objects.pending().select_for_update(of=("self",)).filter(token_hash=_token_hash(token)).first()
    )
    if invitation is None:
        raise NotFound(_("This invitation is no longer valid. Ask the facility to invite you again."))
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user=None, request=None) -> tuple[FacilityMembership, bool]:
    """The invitee accepts: (membership, new_account).

    The link in the SMS proves the mobile. When the mobile has a team account, only that account, signed in, may
    accept (`user`); otherwise a new staff account is made for the mobile, without a password: the caller sends
    the invitee to core's password-set page. A citizen's (or an official's) account is never given a team role:
    a citizen who also works at a hospital gets a separate staff account on the same mobile, with its own username
    and password, so the staff sign-in never opens their own health records and the other way round.
    Audits `facility.team_add`. Raises NotFound (invalid link), NotAllowed (signed in as someone else).
    """
    invitation = _locked_open(token)
    facility = invitation.facility
    person, created = invitation_team_account(invitation), False
    if person is not None:
        if user is None or user.pk != person.pk:
            raise NotAllowed(_("Sign in with your staff account on the invited mobile number to accept."))
    else:
        first, _sep, last = invitation.name.partition(" ")
        username = f"m{invitation.mobile}"
        if User.objects.filter(username=username).exists():  # e.g. the citizen account on this mobile
            username = f"{username}-{secrets.token_hex(3)}"
        person = User(
            username=username,
            mobile=invitation.mobile,
            email=invitation.email,
            first_name=first[:150],
            last_name=last[:150],
            role=TEAM_ROLES[invitation.role],
        )
        person.set_unusable_password()  # chosen next, on core's password-set page
        person.save()
        created = True
    membership, _new = FacilityMembership.objects.get_or_create(
        facility=facility, user=person, defaults={"role": invitation.role}
    )
    invitation.status, invitation.decided_at, invitation.accepted_by = InvitationStatus.ACCEPTED, timezone.now(), person
    invitation.save(update_fields=["status", "decided_at", "accepted_by", "updated_at"])
    audit_record(
        actor=person,
        action="facility.team_add",
        target=facility,
        details={"user": str(person.uuid), "role": invitation.role, "new_account": created},
        request=request,
    )
    return membership, created


@transaction.atomic
def invitation_decline(*, token: str, request=None) -> Invitation:
    """The invitee declines (whoever holds the link: the SMS went to their mobile); no account is touched."""
    invitation = _locked_open(token)
    invitation.status, invitation.decided_at = InvitationStatus.DECLINED, timezone.now()
    invitation.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(
        actor=None,
        action="facility.team_decline",
        target=invitation.facility,
        details={"invitation": str(invitation.uuid)},
        request=request,
    )
    return invitation


@transaction.atomic
def membership_remove(*, actor, membership: FacilityMembership, request=None) -> None:
    """Take a person off the facility's team; the last admin stays (someone must manage the facility)."""
    facility = membership.facility
    _require(actor, "manage_team", facility, _("Only an admin of this facility may manage its team."))
    if (
        membership.role == MembershipRole.ADMIN
        and not FacilityMembership.objects.filter(facility=facility, role=MembershipRole.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise Conflict(_("A facility keeps at least one admin."), code="last_admin")
    details = {"user": str(membership.user.uuid), "role": membership.role}
    membership.delete()
    audit_record(actor=actor, action="facility.team_remove", target=facility, details=details, request=request)
