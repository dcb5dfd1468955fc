"""Reads of records and consents. Each runs a fixed number of queries, whatever the row count."""

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from core.models import AuditEvent

from .enums import ConsentStatus
from .models import BreakGlassGrant, CareContext, ConsentArtefact, ConsentRequest, HealthRecord, Notification

READ_ACTION = "records.read"
LOOKUP_ACTION = "abha.lookup"  # a facility verified the ABHA (abha.services.lookup_audit)
# What a read shows of each record, its care context and facility (the bundle comes as text).
READ_FIELDS = [
    "uuid",
    "hi_type",
    "version",
    "title",
    "record_date",
    "created_at",
    "summary",
    "patient_id",
    # A record stored without a bundle has its index document built from these (linking.documents).
    "patient__abha_number",
    "patient__first_name",
    "patient__middle_name",
    "patient__last_name",
    "care_context__patient_name",
    "facility__facility_id",
    "facility__name",
    "care_context__reference",
    "care_context__display",
    "care_context__date",
]
BTG_ACTION = "records.btg_grant"


def records_for_artefact(artefact: ConsentArtefact) -> QuerySet[HealthRecord]:
    """The current records an artefact covers: its patient, source facility, hiTypes and date range.

    One query (records joined with their care context and facility), on health_record_consent_idx.
    The bundle comes as its JSON text (`bundle_text`), so the API passes it through without
    decoding and re-encoding it. The caller checks that the artefact is active.
    """
    return (
        HealthRecord.objects.current()
        .only(*READ_FIELDS)
        .annotate(bundle_text=Cast("bundle", output_field=TextField()))
        .filter(
            patient_id=artefact.patient_id,
            facility_id=artefact.source_facility_id,
            hi_type__in=list(artefact.hi_types),
            record_date__gte=artefact.date_from,
            record_date__lte=artefact.date_to,
        )
        .select_related("care_context", "facility", "patient")
        .order_by("-record_date", "-id")
    )


def records_for_btg(grant: BreakGlassGrant) -> QuerySet[HealthRecord]:
    """Every current record of the patient, at any facility (one query)."""
    return (
        HealthRecord.objects.current()
        .filter(patient_id=grant.patient_id)
        .select_related("care_context", "facility", "patient")
        .order_by("-record_date", "-id")
    )


def records_at_facilities(*, patient_id: int, facility_ids) -> QuerySet[HealthRecord]:
    """The patient's current records created by these facilities (one query)."""
    return (
        HealthRecord.objects.current()
        .filter(patient_id=patient_id, facility_id__in=list(facility_ids))
        .select_related("care_context", "facility", "patient")
        .order_by("-record_date", "-id")
    )


def own_records(account) -> QuerySet[HealthRecord]:
    return (
        HealthRecord.objects.current()
        .filter(patient=account)
        .select_related("care_context", "facility", "patient")
        .order_by("-record_date", "-id")
    )


def facilities_holding_records(patient_id: int, consent_request=None) -> list[int]:
    """Primary keys of the facilities holding current records of this patient (one query);
    with `consent_request`, only records of its hiTypes and date range (no empty artefacts)."""
    records = HealthRecord.objects.current().filter(patient_id=patient_id)
    if consent_request is not None:
        records = records.filter(
            hi_type__in=list(consent_request.hi_types),
            record_date__gte=consent_request.date_from,
            record_date__lte=consent_request.date_to,
        )
    return sorted(set(records.values_list("facility_id", flat=True)))


def inbox_for(account) -> QuerySet[ConsentRequest]:
    """The citizen's consent requests, pending first then newest (one query)."""
    return (
        ConsentRequest.objects.filter(patient=account)
        .select_related("requester", "requester_facility", "source_facility")
        .order_by("-created_at", "-id")
    )


def pending_requests_count(account) -> int:
    """How many of the citizen's consent requests still await an answer (one COUNT): the home page's banner."""
    return ConsentRequest.objects.filter(
        patient=account, status=ConsentStatus.REQUESTED, expires_at__gt=timezone.now()
    ).count()


def requests_by(user) -> QuerySet[ConsentRequest]:
    """A doctor's requests with their artefacts (two queries)."""
    return (
        ConsentRequest.objects.filter(requester=user)
        .select_related("patient", "requester_facility", "source_facility")
        .prefetch_related("artefacts__source_facility")
        .order_by("-created_at", "-id")
    )


def artefacts_of_patient(account) -> QuerySet[ConsentArtefact]:
    return (
        ConsentArtefact.objects.filter(patient=account)
        .select_related("requester", "requester_facility", "source_facility")
        .order_by("-created_at", "-id")
    )


def care_contexts_of_facilities(facility_ids) -> QuerySet[CareContext]:
    """Care contexts the facilities created, with their patient and records (two queries)."""
    return (
        CareContext.objects.filter(facility_id__in=list(facility_ids))
        .select_related("patient", "facility")
        .prefetch_related("records")
        .order_by("-date", "-id")
    )


def artefacts_covering_facilities(facility_ids) -> QuerySet[ConsentArtefact]:
    return (
        ConsentArtefact.objects.filter(source_facility_id__in=list(facility_ids))
        .select_related("requester", "requester_facility", "source_facility", "patient")
        .order_by("-created_at", "-id")
    )


def access_log_for(account, *, limit: int = 200) -> QuerySet[AuditEvent]:
    """ "Who accessed my data": reads of the citizen's records by others, emergency grants and facilities' look-ups
    of the ABHA, newest first. The page and the citizen's home render it alike (records/_access_entries.html).

    One query on audit_target_idx. The citizen's own reads and sign-ins are audited but not listed.
    """
    return (
        AuditEvent.objects.for_target("abha.abhaaccount", str(account.uuid))
        .filter(action__in=[READ_ACTION, BTG_ACTION, LOOKUP_ACTION])
        .exclude(details__contains={"basis": "self"})  # not basis="self": a missing key would compare NULL
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def notifications_for(user, *, limit: int = 20) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(user=user)
        .select_related("consent_request__patient")
        .order_by("-created_at", "-id")[:limit]
    )


def btg_grants_for_review() -> QuerySet[BreakGlassGrant]:
    return BreakGlassGrant.objects.select_related("doctor", "facility", "patient").order_by("-created_at", "-id")
