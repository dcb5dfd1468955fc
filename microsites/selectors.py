"""Reads for microsites: their facilities, live metric values, milestone progress and the leaderboard."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core import access, counters
from core.enums import FACILITY_REGISTERED_STATES, CountMetric
from core.models import DailyCount
from facilities.enums import FacilityStatus, FacilityType
from facilities.models import Facility

from .enums import Metric, MilestoneStatus
from .models import Microsite, Milestone

SCAN_SHARE_LIVE_DAYS = 30  # a facility is "live on Scan & Share" with a token in this many days, today included


def microsites_for(user) -> QuerySet[Microsite]:
    """The microsites `user` may see, with what the list pages show, in two queries."""
    return access.scope(user, Microsite.objects.all()).prefetch_related("districts", "milestones")


def microsite_facilities(microsite: Microsite) -> QuerySet[Facility]:
    """Facilities in the microsite's districts or pincodes, plus inclusions, minus exclusions."""
    area = Q(pk__in=microsite.included_facilities.values("pk"))
    district_ids = [d.pk for d in microsite.districts.all()]
    if district_ids:
        area |= Q(district_id__in=district_ids)
    if microsite.pincodes:
        area |= Q(pincode__in=microsite.pincodes)
    return Facility.objects.filter(area).exclude(pk__in=microsite.excluded_facilities.values("pk"))


@dataclass(frozen=True)
class FacilityFacts:
    """What the milestone metrics need of one of the microsite's facilities."""

    pk: int
    status: str
    facility_type: str
    beds: int


def microsite_facility_facts(microsite: Microsite) -> list[FacilityFacts]:
    """The microsite's facilities with their status, type and beds: one query, shared by all its metrics."""
    rows = microsite_facilities(microsite).values_list("pk", "status", "facility_type", "beds")
    return [FacilityFacts(*row) for row in rows]


def _abha_created_in_area(microsite: Microsite, facility_ids: list[int]) -> int:
    """ABHA numbers created for people of the microsite's districts, or assisted at its facilities.

    Read from the counter table (two sums), never by counting the accounts table.
    """
    district_ids = [d.pk for d in microsite.districts.all()]
    rows = DailyCount.objects.filter(metric=CountMetric.ABHA_CREATED)
    in_districts = rows.filter(district_lgd__in=district_ids).aggregate(n=Sum("value"))["n"] or 0
    assisted_elsewhere = (
        rows.filter(facility_key__in=facility_ids).exclude(district_lgd__in=district_ids).aggregate(n=Sum("value"))["n"]
        or 0
    )
    return in_districts + assisted_elsewhere


def _facility_counter_sum(facilities: list[int], metrics, since=None) -> int:
    """Sum of the counters `metrics` at these facilities (pks), from the daily counter table (one query)."""
    if not facilities:
        return 0
    rows = DailyCount.objects.filter(metric__in=list(metrics), facility_key__in=facilities)
    if since is not None:
        rows = rows.filter(day__gte=since)
    return rows.aggregate(n=Sum("value"))["n"] or 0


def facilities_live_on_scan_share(facilities: list[int], today=None) -> int:
    """How many of these facilities issued at least one Scan & Share token in the last SCAN_SHARE_LIVE_DAYS days
    (today included), from the token counters: one query."""
    if not facilities:
        return 0
    today = today or timezone.localdate()
    return (
        DailyCount.objects.filter(
            metric=CountMetric.SCAN_TOKENS,
            facility_key__in=facilities,
            day__gt=today - datetime.timedelta(days=SCAN_SHARE_LIVE_DAYS),
            value__gt=0,
        )
        .values("facility_key")
        .distinct()
        .count()
    )


# What a DHIS "transaction" is here: each health record linked to an ABHA at the facility (once per record,
# not per amended version: the RECORDS_LINKED counter) and each Scan & Share token it issued (an ABHA-based
# OPD registration: SCAN_TOKENS), in the facility's calendar month.
DHIS_TRANSACTION_METRICS = (CountMetric.RECORDS_LINKED, CountMetric.SCAN_TOKENS)
DHIS_LAB_TYPES = frozenset({FacilityType.DIAGNOSTIC_LAB, FacilityType.IMAGING_CENTRE})


def dhis_base_and_rate(facility_type: str, beds: int) -> tuple[int, int] | None:
    """(monthly base, rupees per transaction above it) for a facility, or None when DHIS does not cover it.

    Labs and imaging centres: DHIS_LAB_BASE a month at DHIS_LAB_RATE. Other facilities with at least
    DHIS_MIN_BEDS beds: DHIS_BASE_PER_BED x beds at DHIS_HOSPITAL_RATE. Smaller ones: not eligible.
    """
    if facility_type in DHIS_LAB_TYPES:
        return settings.DHIS_LAB_BASE, settings.DHIS_LAB_RATE
    if beds >= settings.DHIS_MIN_BEDS:
        return settings.DHIS_BASE_PER_BED * beds, settings.DHIS_HOSPITAL_RATE
    return None


@dataclass(frozen=True)
class Incentive:
    transactions: int  # all transactions at eligible facilities
    eligible: int  # the part above each facility's monthly base
    amount: int  # rupees: eligible x each facility's rate


def dhis_incentive(
    facilities: QuerySet[Facility] | list[FacilityFacts], since: datetime.date | None = None
) -> Incentive:
    """DHIS-style incentive of these facilities: per facility and month, max(0, transactions - base) x rate.

    One query for the transaction counters summed per facility and month (never the records or tokens
    tables), and one for the facilities' type and beds when given a QuerySet. The scheme's overall
    cap per facility is not applied.
    """
    if isinstance(facilities, QuerySet):
        facilities = [
            FacilityFacts(pk, "", kind, beds)
            for pk, kind, beds in facilities.values_list("pk", "facility_type", "beds")
        ]
    plans = {}
    for pk, facility_type, beds in ((f.pk, f.facility_type, f.beds) for f in facilities):
        plan = dhis_base_and_rate(facility_type, beds)
        if plan is not None:
            plans[pk] = plan
    if not plans:
        return Incentive(0, 0, 0)
    rows = DailyCount.objects.filter(metric__in=DHIS_TRANSACTION_METRICS, facility_key__in=list(plans))
    if since is not None:
        rows = rows.filter(day__gte=since)
    monthly = (
        rows.annotate(month=TruncMonth("day"))
        .values("facility_key", "month")
        .annotate(n=Sum("value"))
        .values_list("facility_key", "n")
    )
    transactions = eligible = amount = 0
    for facility_key, count in monthly:
        base, rate = plans[facility_key]
        above = max(0, count - base)
        transactions += count
        eligible += above
        amount += above * rate
    return Incentive(transactions=transactions, eligible=eligible, amount=amount)


def metric_value(microsite: Microsite, metric: str, facts: list[FacilityFacts] | None = None) -> int:
    """The live value of `metric` for `microsite`, over its facilities (or its area, for ABHA numbers).

    `facts` (microsite_facility_facts) may be passed in when several metrics of one microsite are computed.
    Facilities registered and verified come from the facilities' statuses; everything else sums the
    counter tables (one or two queries), never the accounts, records or tokens tables.
    """
    if facts is None:
        facts = microsite_facility_facts(microsite)
    facility_ids = [f.pk for f in facts]
    if metric == Metric.FACILITIES_REGISTERED:
        return sum(1 for f in facts if f.status in FACILITY_REGISTERED_STATES)
    if metric == Metric.FACILITIES_VERIFIED:
        return sum(1 for f in facts if f.status == FacilityStatus.VERIFIED)
    if metric == Metric.ABHA_CREATED:
        return _abha_created_in_area(microsite, facility_ids)
    if metric == Metric.PROFESSIONALS_VERIFIED:
        # Professionals registered in the microsite's districts (the counter's district grain).
        district_ids = [d.pk for d in microsite.districts.all()]
        return counters.total(CountMetric.PROFESSIONALS_VERIFIED, district_ids)
    if metric == Metric.INCENTIVE_TRANSACTIONS:
        return dhis_incentive(facts).eligible
    if metric == Metric.RECORDS_LINKED:
        return _facility_counter_sum(facility_ids, [CountMetric.RECORDS_LINKED])
    if metric == Metric.SCAN_TOKENS:
        return _facility_counter_sum(facility_ids, [CountMetric.SCAN_TOKENS])
    if metric == Metric.FACILITIES_LIVE_SCAN_SHARE:
        return facilities_live_on_scan_share(facility_ids)
    raise ValueError(f"Unknown metric {metric!r}")


@dataclass(frozen=True)
class Progress:
    milestone: Milestone
    value: int
    percent: int
    status: str
    projected: int | None

    @property
    def status_label(self):
        return MilestoneStatus(self.status).label


def milestone_progress(milestone: Milestone, value: int, today: datetime.date | None = None) -> Progress:
    """Progress of one milestone given its metric's current value.

    Achieved once reached (the date is kept even if the value falls later); missed when past due;
    at risk when the pace since the microsite's start would not reach the target by the due date.
    """
    today = today or timezone.localdate()
    percent = min(100, round(100 * value / milestone.target)) if milestone.target else 0
    start = milestone.microsite.start_date
    elapsed = (today - start).days
    span = (milestone.due_date - start).days
    projected = round(value * span / elapsed) if elapsed > 0 and span > 0 else None
    if milestone.achieved_at or value >= milestone.target:
        status = MilestoneStatus.ACHIEVED
    elif today > milestone.due_date:
        status = MilestoneStatus.MISSED
    elif projected is not None and projected < milestone.target:
        status = MilestoneStatus.AT_RISK
    else:
        status = MilestoneStatus.ON_TRACK
    return Progress(milestone=milestone, value=value, percent=percent, status=status, projected=projected)


def microsite_progress(
    microsite: Microsite, today: datetime.date | None = None, facts: list[FacilityFacts] | None = None
) -> list[Progress]:
    """Progress of every milestone; each metric is counted once, however many milestones use it.

    One query for the microsite's facilities, then one or two on the counters per metric used.
    """
    milestones = list(microsite.milestones.all())
    if facts is None:
        facts = microsite_facility_facts(microsite)
    values = {metric: metric_value(microsite, metric, facts) for metric in {m.metric for m in milestones}}
    return [milestone_progress(m, values[m.metric], today) for m in milestones]


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    microsite: Microsite
    achieved: int
    total: int
    share: float
    records_linked: int
    facilities_verified: int
    completed_at: datetime.datetime | None
    first_to_complete: bool = False


def leaderboard(microsites) -> list[LeaderboardRow]:
    """Ranked by share of milestones achieved, then records linked, then facilities verified, then name.

    The microsite that achieved all its milestones earliest is marked `first_to_complete`.
    """
    rows = []
    for microsite in microsites:
        facts = microsite_facility_facts(microsite)
        progress = microsite_progress(microsite, facts=facts)
        achieved = [p for p in progress if p.status == MilestoneStatus.ACHIEVED]
        total = len(progress)
        completed_at = None
        if total and len(achieved) == total:
            dates = [p.milestone.achieved_at for p in achieved]
            completed_at = max(dates) if all(dates) else None
        rows.append(
            {
                "microsite": microsite,
                "achieved": len(achieved),
                "total": total,
                "share": len(achieved) / total if total else 0.0,
                "records_linked": metric_value(microsite, Metric.RECORDS_LINKED, facts),
                "facilities_verified": metric_value(microsite, Metric.FACILITIES_VERIFIED, facts),
                "completed_at": completed_at,
            }
        )
    rows.sort(key=lambda r: (-r["share"], -r["records_linked"], -r["facilities_verified"], r["microsite"].name))
    completed = [r for r in rows if r["completed_at"]]
    first = min(completed, key=lambda r: r["completed_at"]) if completed else None
    return [
        LeaderboardRow(rank=index, first_to_complete=row is first, **row) for index, row in enumerate(rows, start=1)
    ]
