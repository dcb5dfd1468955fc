"""Patient-initiated linking: the citizen claims a facility's older visits kept by demographics, confirms with
an OTP; strong matches link at once, weak ones wait for the facility's review."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from abha.models import AbhaAccount
from core import access
from core.counters import count_add
from core.enums import CountMetric
from core.exceptions import Conflict, DomainError, NotAllowed, NotFound
from core.otp import otp_issue, otp_matches, otp_throttle
from core.services import audit_record
from core.sms import send_on_commit
from facilities.models import Facility

from ..enums import LinkMatch, LinkStatus
from ..fhir import bundle_patient_errors
from ..models import CareContext, HealthRecord, LinkRequest

LINK_OTP_MINUTES = 10
LINK_OTP_ATTEMPTS = 5


def normal_name(value: str) -> str:
    """Names compared for matching: lower case, dots as spaces, single spaces."""
    return " ".join(value.lower().replace(".", " ").split())


def _match(account: AbhaAccount, care_context: CareContext) -> str:
    names = {normal_name(account.full_name), normal_name(f"{account.first_name} {account.last_name}")}
    return LinkMatch.STRONG if normal_name(care_context.patient_name) in names else LinkMatch.WEAK


def link_candidates(account: AbhaAccount, facility: Facility) -> list[tuple[CareContext, str]]:
    """The facility's unlinked visits whose mobile, gender and year of birth match the account,
    each with its match strength (strong when the name matches too). One query."""
    care_contexts = CareContext.objects.filter(
        facility=facility,
        patient__isnull=True,
        patient_mobile=account.mobile,
        patient_gender=account.gender,
        patient_year_of_birth=account.year_of_birth,
    ).order_by("-date", "-id")
    return [(care_context, _match(account, care_context)) for care_context in care_contexts]


LINK_OTPS_PER_HOUR = 5


def _link_throttle(account: AbhaAccount) -> None:
    """At most LINK_OTPS_PER_HOUR linking OTPs per account per hour (a fixed window in the cache)."""
    otp_throttle(f"records:link-otp:{account.pk}", rate=f"{LINK_OTPS_PER_HOUR}/hour")


def _link_subject(link: LinkRequest) -> str:
    """What a linking OTP's digest is bound to (`link:` keeps it apart from ABHA OTP transactions)."""
    return f"link:{link.uuid}"


@transaction.atomic
def link_start(*, actor, facility: Facility, care_context_uuids: list, request=None) -> LinkRequest:
    """The citizen claims some of the facility's unlinked visits; an OTP goes to their ABHA mobile.

    Only visits that match the account's demographics can be claimed (others: DomainError).
    """
    account = getattr(actor, "abha", None) if actor.is_authenticated else None
    if account is None or not account.is_active:
        raise NotAllowed(_("Only a citizen with an active ABHA links records."))
    candidates = {str(cc.uuid): (cc, match) for cc, match in link_candidates(account, facility)}
    chosen = [candidates.get(str(uuid)) for uuid in dict.fromkeys(care_context_uuids or [])]
    if not chosen or None in chosen:
        raise DomainError(
            _("Choose visits found for you at this facility."),
            fields={"care_contexts": [_("Choose visits from the list.")]},
        )
    match = LinkMatch.STRONG if all(m == LinkMatch.STRONG for _cc, m in chosen) else LinkMatch.WEAK
    _link_throttle(account)
    link = LinkRequest(
        patient=account,
        facility=facility,
        match=match,
        otp_expires_at=timezone.now() + dt.timedelta(minutes=LINK_OTP_MINUTES),
    )
    otp, link.otp_hash = otp_issue(_link_subject(link))
    link.save()
    link.care_contexts.set([cc for cc, _m in chosen])
    audit_record(
        actor=actor,
        action="records.link_start",
        target=link,
        details={"facility": facility.facility_id, "match": match},
    )
    text = _("%(otp)s is your OTP to link your health records. Do not share it with anyone.") % {"otp": otp}
    send_on_commit(to=account.mobile, text=text)
    return link


def refuse_records_of_another_person(care_context_ids, account: AbhaAccount) -> None:
    """Raise Conflict when a record of these visits carries a bundle whose Patient names another ABHA number or
    address than `account`'s: a visit kept by demographics and linked later is checked like one filed directly."""
    bundles = HealthRecord.objects.filter(care_context_id__in=care_context_ids).values_list("bundle", flat=True)
    for bundle in bundles.iterator(chunk_size=200):
        if bundle and bundle_patient_errors(bundle, account):
            message = _("The bundle's patient has an ABHA number or address of another person than this row's.")
            raise Conflict(message, code="bundle_other_patient")


def visits_link(*, care_context_ids: list[int], account: AbhaAccount, facility: Facility) -> int:
    """Give visits kept unlinked at `facility`, and their records, to `account`: the citizen's claim and the
    facility's review of a linking row both end here. Refused when a record's bundle names another person or a
    visit was linked to someone meanwhile (race-safe: only visits still unlinked move); counts the records."""
    refuse_records_of_another_person(care_context_ids, account)
    linked = CareContext.objects.filter(pk__in=care_context_ids, patient__isnull=True).update(patient=account)
    if linked != len(care_context_ids):
        raise Conflict(_("Some of these visits were linked to someone else meanwhile."), code="already_linked")
    newly_linked = HealthRecord.objects.filter(care_context_id__in=care_context_ids, patient__isnull=True)
    first_versions = newly_linked.filter(version=1).count()
    newly_linked.update(patient=account)
    if first_versions:
        count_add(
            metric=CountMetric.RECORDS_LINKED,
            district_lgd=facility.district_id,
            facility_key=facility.pk,
            delta=first_versions,
        )
    return linked


def _link(link: LinkRequest) -> int:
    """Give the claimed visits and their records to the patient, and have them linked on ABDM as well (HIP-initiated
    linking, through the outbox, as for every other record linked at a facility)."""
    from ..abdm_linking import links_add  # noqa: PLC0415 - abdm_linking imports these services

    ids = list(link.care_contexts.values_list("pk", flat=True))
    linked = visits_link(care_context_ids=ids, account=link.patient, facility=link.facility)
    links_add(care_context_ids=ids)
    return linked


@transaction.atomic
def link_confirm(*, actor, link_uuid, otp: str, request=None) -> LinkRequest:
    """Check the OTP: a strong match is linked at once, a weak one waits for the facility's review."""
    link = LinkRequest.objects.select_for_update().select_related("patient").filter(uuid=link_uuid).first()
    if link is None or link.patient.user_id != actor.pk:
        raise NotFound(_("Not found."))
    if link.status != LinkStatus.OTP_SENT:
        raise Conflict(_("This link request is already complete."))
    if link.otp_expires_at <= timezone.now():
        raise Conflict(_("The OTP has expired. Please start again."), code="otp_expired")
    if not otp_matches(_link_subject(link), otp, link.otp_hash):
        link.failed_attempts += 1
        if link.failed_attempts >= LINK_OTP_ATTEMPTS:
            link.status = LinkStatus.FAILED
        # Raising rolls this transaction back; link_confirm_counted stores the count after it.
        raise _WrongOtp(link)
    if link.match == LinkMatch.STRONG:
        count = _link(link)
        link.status = LinkStatus.LINKED
        details = {"care_contexts": count}
    else:
        link.status = LinkStatus.NEEDS_REVIEW
        details = {}
    link.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=f"records.link_{link.status}", target=link, details=details, request=request)
    return link


class _WrongOtp(Exception):
    def __init__(self, link):
        self.link = link


def link_confirm_counted(*, actor, link_uuid, otp: str, request=None) -> LinkRequest:
    """link_confirm, keeping the failed-attempt count when the OTP is wrong (then DomainError)."""
    try:
        return link_confirm(actor=actor, link_uuid=link_uuid, otp=otp, request=request)
    except _WrongOtp as wrong:
        LinkRequest.objects.filter(pk=wrong.link.pk).update(
            failed_attempts=wrong.link.failed_attempts, status=wrong.link.status
        )
        raise DomainError(_("The OTP is not correct."), code="otp_wrong", fields={"otp": [_("Wrong OTP.")]}) from None


@transaction.atomic
def link_review(*, actor, link_uuid, approve: bool, request=None) -> LinkRequest:
    """Facility staff decide a weak match: link it, or refuse it (nothing is linked)."""
    link = LinkRequest.objects.select_for_update(of=("self",)).select_related("patient").filter(uuid=link_uuid).first()
    if link is None or not access.can(actor, "view", link):
        raise NotFound(_("Not found."))
    if not access.can(actor, "review", link):
        raise NotAllowed(_("Only the facility's staff review links."))
    if link.status != LinkStatus.NEEDS_REVIEW:
        raise Conflict(_("This link request is not waiting for review."))
    if approve:
        _link(link)
        link.status = LinkStatus.LINKED
    else:
        link.status = LinkStatus.REJECTED
    link.decided_by = actor
    link.decided_at = timezone.now()
    link.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record(actor=actor, action=f"records.link_review_{link.status}", target=link, request=request)
    return link
