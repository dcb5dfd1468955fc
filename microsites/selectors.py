"""Reads for microsites: their facilities, live metric values, milestone progress and the leaderboard."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from core import access, counters
from core.enums import FACILITY_REGISTERED_STATES, CountMetric
from core.models import DailyCount
from facilities.enums import FacilityStatus
from facilities.models import Facility

from .enums import Metric, MilestoneStatus
from .models import Microsite, Milestone


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


def _abha_created_in_area(microsite: Microsite) -> int:
    """ABHA numbers created for people of the microsite's districts, or assisted at its facilities.

    Read from the counter table (two sums), never by counting the accounts table.
    """
    district_ids = [d.pk for d in microsite.districts.all()]
    rows = DailyCount.objects.filter(metric=CountMetric.ABHA_CREATED)
    in_districts = rows.filter(district_lgd__in=district_ids).aggregate(n=Sum("value"))["n"] or 0
    facility_ids = list(microsite_facilities(microsite).values_list("pk", flat=True))
    assisted_elsewhere = (
        rows.filter(facility_key__in=facility_ids).exclude(district_lgd__in=district_ids).aggregate(n=Sum("value"))["n"]
        or 0
    )
    return in_districts + assisted_elsewhere


def metric_value(microsite: Microsite, metric: str) -> int:
    """The live value of `metric` for `microsite`: a count of its facilities, or counter sums for ABHA."""
    facilities = microsite_facilities(microsite)
    if metric == Metric.FACILITIES_REGISTERED:
        return facilities.filter(status__in=FACILITY_REGISTERED_STATES).count()
    if metric == Metric.FACILITIES_VERIFIED:
        return facilities.filter(status=FacilityStatus.VERIFIED).count()
    if metric == Metric.ABHA_CREATED:
        return _abha_created_in_area(microsite)
    if metric == Metric.RECORDS_LINKED:
        facility_ids = list(facilities.values_list("pk", flat=True))
        return (
            DailyCount.objects.filter(metric=CountMetric.RECORDS_LINKED, facility_key__in=facility_ids).aggregate(
                n=Sum("value")
            )["n"]
            or 0
        )
    if metric == Metric.PROFESSIONALS_VERIFIED:
        # Professionals registered in the microsite's districts (the counter's district grain).
        district_ids = [d.pk for d in microsite.districts.all()]
        return counters.total(CountMetric.PROFESSIONALS_VERIFIED, district_ids)
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


def microsite_progress(microsite: Microsite, today: datetime.date | None = None) -> list[Progress]:
    """Progress of every milestone; each metric is counted once, however many milestones use it."""
    milestones = list(microsite.milestones.all())
    values = {metric: metric_value(microsite, metric) for metric in {m.metric for m in milestones}}
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
        progress = microsite_progress(microsite)
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
                "records_linked": metric_value(microsite, Metric.RECORDS_LINKED),
                "facilities_verified": metric_value(microsite, Metric.FACILITIES_VERIFIED),
                "completed_at": completed_at,
            }
        )
    rows.sort(key=lambda r: (-r["share"], -r["records_linked"], -r["facilities_verified"], r["microsite"].name))
    completed = [r for r in rows if r["completed_at"]]
    first = min(completed, key=lambda r: r["completed_at"]) if completed else None
    return [
        LeaderboardRow(rank=index, first_to_complete=row is first, **row) for index, row in enumerate(rows, start=1)
    ]
