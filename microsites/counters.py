"""The source-table truth for each dashboard counter (see core.counters.rebuild)."""

from django.db.models import Count, F, Value
from django.db.models.functions import Coalesce, TruncDate

from abha.enums import AccountStatus
from abha.models import AbhaAccount
from core import counters
from core.enums import FACILITY_REGISTERED_STATES, FACILITY_STATUS_METRICS, CountMetric
from facilities.enums import FacilityStatus, RegistryStatus
from facilities.models import Facility, Professional
from records.abdm_linking import ABDM_LINKED_METRIC
from records.linking.models import AbdmCareContextLink, AbdmLinkStatus
from records.models import HealthRecord
from scanshare.models import ScanToken


def _grouped(queryset, day_field):
    rows = (
        queryset.annotate(day=TruncDate(day_field))
        .values("day", "district_id", "facility_key")
        .annotate(n=Count("id"))
        .values_list("day", "district_id", "facility_key", "n")
    )
    return [(day, district or 0, facility or 0, n) for day, district, facility, n in rows]


@counters.source(CountMetric.ABHA_CREATED)
def _abha_created():
    accounts = AbhaAccount.objects.annotate(facility_key=F("assisted_facility_id"))
    return _grouped(accounts, "created_at")


@counters.source(CountMetric.ABHA_ACTIVE)
def _abha_active():
    accounts = AbhaAccount.objects.filter(status=AccountStatus.ACTIVE).annotate(facility_key=F("assisted_facility_id"))
    return _grouped(accounts, "created_at")


@counters.source(CountMetric.FACILITIES_REGISTERED)
def _facilities_registered():
    facilities = Facility.objects.filter(status__in=FACILITY_REGISTERED_STATES).annotate(facility_key=F("id"))
    return _grouped(facilities.annotate(when=Coalesce("submitted_at", "created_at")), "when")


@counters.source(CountMetric.FACILITIES_VERIFIED)
def _facilities_verified():
    facilities = Facility.objects.filter(status=FacilityStatus.VERIFIED).annotate(facility_key=F("id"))
    return _grouped(facilities.annotate(when=Coalesce("verified_at", "created_at")), "when")


def _facilities_in_status(status):
    def rows():
        facilities = Facility.objects.filter(status=status).annotate(facility_key=F("id"))
        return _grouped(facilities.annotate(when=Coalesce("submitted_at", "created_at")), "when")

    return rows


for _status, _metric in FACILITY_STATUS_METRICS.items():
    if _status != FacilityStatus.VERIFIED:  # verified: _facilities_verified above
        counters.source(_metric)(_facilities_in_status(_status))


@counters.source(CountMetric.PROFESSIONALS_VERIFIED)
def _professionals_verified():
    professionals = Professional.objects.filter(status=RegistryStatus.VERIFIED).annotate(facility_key=Value(0))
    return _grouped(professionals.annotate(when=Coalesce("verified_at", "created_at")), "when")


@counters.source(CountMetric.SCAN_TOKENS, exact_days=True)
def _scan_tokens():
    # A token's `day` is already its local (Asia/Kolkata) day, the day count_add used when it was issued.
    rows = (
        ScanToken.objects.values("day", "facility__district_id", "facility_id")
        .annotate(n=Count("id"))
        .values_list("day", "facility__district_id", "facility_id", "n")
    )
    return [(day, district or 0, facility, n) for day, district, facility, n in rows]


@counters.source(CountMetric.RECORDS_LINKED)
def _records_linked():
    records = HealthRecord.objects.filter(patient__isnull=False, version=1).annotate(
        facility_key=F("facility_id"), district_id=F("facility__district_id")
    )
    return _grouped(records, "created_at")


@counters.source(ABDM_LINKED_METRIC)
def _records_linked_on_abdm():
    # Care contexts ABDM confirmed as linked, on the day the confirmation came (records.abdm_linking._linked).
    links = AbdmCareContextLink.objects.filter(status=AbdmLinkStatus.LINKED).annotate(
        id=F("care_context_id"), facility_key=F("facility_id"), district_id=F("facility__district_id")
    )
    return _grouped(links, "linked_at")
