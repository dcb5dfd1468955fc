"""Reads for microsites: their facilities, live metric values, milestone progress and the leaderboard."""

import datetime
from collections import Counter as Tally
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.db.models.query import prefetch_related_objects
from django.utils import timezone

from core import access, counters
from core.enums import FACILITY_REGISTERED_STATES, CountMetric
from core.models import CounterTotal, DailyCount, District, FacilityTotal
from facilities.enums import FacilityStatus, FacilityType
from facilities.models import Facility

from . import dashboard
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
    """What the DHIS incentive needs of a facility (dhis_incentive takes a list of them, or a QuerySet)."""

    pk: int
    status: str
    facility_type: str
    beds: int


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
    by_facility = _dhis_by_facility(_dhis_plans((f.pk, f.facility_type, f.beds) for f in facilities), since)
    return Incentive(
        transactions=sum(i.transactions for i in by_facility.values()),
        eligible=sum(i.eligible for i in by_facility.values()),
        amount=sum(i.amount for i in by_facility.values()),
    )


def _dhis_plans(facilities) -> dict[int, tuple[int, int]]:
    """pk -> (monthly base, rate) of the facilities DHIS covers, from (pk, facility_type, beds)."""
    plans = {}
    for pk, facility_type, beds in facilities:
        plan = dhis_base_and_rate(facility_type, beds)
        if plan is not None:
            plans[pk] = plan
    return plans


def _dhis_by_facility(plans: dict[int, tuple[int, int]], since=None) -> dict[int, Incentive]:
    """Each facility's incentive, from its transaction counters summed per month (one query)."""
    if not plans:
        return {}
    rows = DailyCount.objects.filter(metric__in=DHIS_TRANSACTION_METRICS, facility_key__in=list(plans))
    if since is not None:
        rows = rows.filter(day__gte=since)
    monthly = (
        rows.annotate(month=TruncMonth("day"))
        .values("facility_key", "month")
        .annotate(n=Sum("value"))
        .values_list("facility_key", "n")
    )
    found: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for facility_key, count in monthly:
        base, rate = plans[facility_key]
        above = max(0, count - base)
        totals = found[facility_key]
        totals[0] += count
        totals[1] += above
        totals[2] += above * rate
    return {pk: Incentive(*totals) for pk, totals in found.items()}


# Milestone metrics read from the running totals per facility (core.FacilityTotal), all time.
FACILITY_TOTAL_METRICS = {
    Metric.RECORDS_LINKED: CountMetric.RECORDS_LINKED,
    Metric.SCAN_TOKENS: CountMetric.SCAN_TOKENS,
}


@dataclass(frozen=True)
class _Area:
    """What decides a microsite's facilities: districts, pincodes, inclusions and exclusions (pks)."""

    districts: frozenset
    pincodes: frozenset
    included: frozenset
    excluded: frozenset

    def covers(self, district_id, pincode) -> bool:
        return district_id in self.districts or pincode in self.pincodes


def _areas(microsites: list[Microsite]) -> dict[int, _Area]:
    """Each microsite's area, from its three many-to-many tables: three queries whatever their number."""
    ids = [m.pk for m in microsites]
    links = {}
    for name, target in (
        ("districts", "district_id"),
        ("included_facilities", "facility_id"),
        ("excluded_facilities", "facility_id"),
    ):
        through = getattr(Microsite, name).through
        rows = defaultdict(set)
        for microsite_id, target_id in through.objects.filter(microsite_id__in=ids).values_list("microsite_id", target):
            rows[microsite_id].add(target_id)
        links[name] = rows
    return {
        m.pk: _Area(
            districts=frozenset(links["districts"][m.pk]),
            pincodes=frozenset(m.pincodes or []),
            included=frozenset(links["included_facilities"][m.pk]),
            excluded=frozenset(links["excluded_facilities"][m.pk]),
        )
        for m in microsites
    }


class _Cells:
    """Facility figures summed per cell: (district, pincode), the pincode only where some microsite names it.

    A microsite's area is a union of cells (its districts, its pincodes), corrected by its inclusions and
    exclusions, which are kept per facility (`special`). Each figure is a key of a Tally.
    """

    def __init__(self, areas: dict[int, _Area]):
        self.districts = sorted({d for a in areas.values() for d in a.districts})
        self.pincodes = sorted({p for a in areas.values() for p in a.pincodes})
        self.district_set, self.pincode_set = set(self.districts), set(self.pincodes)
        self.special_ids = sorted({pk for a in areas.values() for pk in a.included | a.excluded})
        self.cells: dict[tuple, Tally] = defaultdict(Tally)
        self.special: dict[int, Tally] = defaultdict(Tally)
        # Where each included or excluded facility is, and its status (one query).
        self.special_place: dict[int, tuple] = {}
        self.special_status: dict[int, str] = {}
        if self.special_ids:
            rows = Facility.objects.filter(pk__in=self.special_ids).values_list(
                "pk", "district_id", "pincode", "status"
            )
            for pk, district, pincode, status in rows:
                self.special_place[pk] = (district, pincode)
                self.special_status[pk] = status

    @property
    def empty(self) -> bool:
        return not self.districts and not self.pincodes

    def area_q(self) -> Q:
        """ "In some microsite's districts or pincodes" (empty when there are none: see `empty`)."""
        area = Q()
        if self.districts:
            area |= Q(district_id__in=self.districts)
        if self.pincodes:
            area |= Q(pincode__in=self.pincodes)
        return area

    def cell_pincode(self):
        """A facility's pincode where some microsite names it, else "": the second half of its cell."""
        if not self.pincodes:
            return Value("")
        return Case(When(pincode__in=self.pincodes, then=F("pincode")), default=Value(""))

    def facilities(self) -> QuerySet[Facility]:
        """The facilities in some microsite's area, with their cell's pincode (`cell_pincode`)."""
        return Facility.objects.filter(self.area_q()).annotate(cell_pincode=self.cell_pincode())

    def cell_of(self, district_id, pincode) -> tuple:
        return (district_id, pincode if pincode in self.pincode_set else "")

    def sql(self, alias: str = "f") -> tuple[str, list, str, list]:
        """SQL for the cell's pincode column and for "in some microsite's area", each with its parameters
        (for _facility_totals' join; the other reads use `facilities()`)."""
        if self.pincodes:
            marks = ", ".join(["%s"] * len(self.pincodes))
            cell = f"CASE WHEN {alias}.pincode IN ({marks}) THEN {alias}.pincode ELSE '' END"
            cell_params = list(self.pincodes)
        else:
            cell, cell_params = "''", []
        conditions, params = [], []
        if self.districts:
            conditions.append(f"{alias}.district_id IN ({', '.join(['%s'] * len(self.districts))})")
            params += self.districts
        if self.pincodes:
            conditions.append(f"{alias}.pincode IN ({', '.join(['%s'] * len(self.pincodes))})")
            params += self.pincodes
        return cell, cell_params, " OR ".join(conditions), params

    def total(self, area: _Area) -> Tally:
        """The figures over one microsite's area, from the district sums, its pincodes' cells and its corrections."""
        found = Tally()
        for district in area.districts:
            found.update(self.by_district.get(district, ()))
        for pincode in area.pincodes:
            for district, tally in self.by_pincode.get(pincode, ()):
                if district not in area.districts:
                    found.update(tally)
        for pk in area.included - area.excluded:
            place = self.special_place.get(pk)
            if place is not None and not area.covers(*place):
                found.update(self.special[pk])
        for pk in area.excluded:
            place = self.special_place.get(pk)
            if place is not None and area.covers(*place):
                found.subtract(self.special[pk])
        return found

    def index(self) -> None:
        self.by_district: dict[int, Tally] = defaultdict(Tally)
        self.by_pincode: dict[str, list[tuple[int, Tally]]] = defaultdict(list)
        for (district, pincode), tally in self.cells.items():
            self.by_district[district].update(tally)
            if pincode:
                self.by_pincode[pincode].append((district, tally))


def _facility_figures(cells: _Cells) -> None:
    """Facilities registered and verified per cell: one grouped query on the facility table."""
    registered = Count("pk", filter=Q(status__in=FACILITY_REGISTERED_STATES))
    verified = Count("pk", filter=Q(status=FacilityStatus.VERIFIED))
    if not cells.empty:
        rows = (
            cells.facilities()
            .values("district_id", "cell_pincode")
            .annotate(registered=registered, verified=verified)
            .values_list("district_id", "cell_pincode", "registered", "verified")
        )
        for district, pincode_value, registered_count, verified_count in rows:
            tally = cells.cells[(district, pincode_value)]
            tally["registered"] += registered_count
            tally["verified"] += verified_count
    for pk, status in cells.special_status.items():
        cells.special[pk]["registered"] += status in FACILITY_REGISTERED_STATES
        cells.special[pk]["verified"] += status == FacilityStatus.VERIFIED


def _facility_totals(cells: _Cells, metrics: list[str]) -> None:
    """The running totals per facility of `metrics`, summed per cell and per district of the event (ABHA numbers
    created are counted at the citizen's district): one grouped query, one more for included/excluded ones.

    The one join still written in SQL. core cannot point a foreign key at facilities, so the ORM reaches a total's
    facility only through a correlated subquery per total row, which PostgreSQL runs as an index probe per row
    (and, at those costs, JIT-compiles) instead of this hash join. Measured in process on 20,000 facilities and
    1.3 lakh totals, the ORM form took about four times as long: 74 against 19 ms for four districts (24,000 total
    rows), 360 against 97 ms for all 33 (92,000).
    """
    if not cells.empty:
        cell, cell_params, area, area_params = cells.sql()
        marks = ", ".join(["%s"] * len(metrics))
        sql = (
            f"SELECT f.district_id, {cell}, t.metric, t.district_lgd, SUM(t.value) "  # noqa: S608 - only placeholders
            f"FROM {FacilityTotal._meta.db_table} t JOIN {Facility._meta.db_table} f ON f.id = t.facility_key "
            f"WHERE t.metric IN ({marks}) AND ({area}) GROUP BY 1, 2, 3, 4"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*cell_params, *metrics, *area_params])
            for district, pincode, metric, event_district, value in cursor.fetchall():
                cells.cells[(district, pincode)][("total", metric, event_district)] += int(value)  # SUM: numeric
    if cells.special_ids:
        rows = FacilityTotal.objects.filter(metric__in=metrics, facility_key__in=cells.special_ids).values_list(
            "facility_key", "metric", "district_lgd", "value"
        )
        for pk, metric, event_district, value in rows:
            cells.special[pk][("total", metric, event_district)] += value


def _live_on_scan_share(cells: _Cells, today: datetime.date) -> None:
    """Facilities with a token in the last SCAN_SHARE_LIVE_DAYS days, per cell, from the latest token day kept
    with each facility's running total (one row per facility, whatever the number of tokens)."""
    since = today - datetime.timedelta(days=SCAN_SHARE_LIVE_DAYS)
    live = FacilityTotal.objects.filter(metric=CountMetric.SCAN_TOKENS, last_day__gt=since)
    if not cells.empty:
        # A semi-join: a facility with rows under two districts (it moved) is counted once.
        rows = (
            cells.facilities()
            .filter(pk__in=live.values("facility_key"))
            .values("district_id", "cell_pincode")
            .annotate(live=Count("pk"))
            .values_list("district_id", "cell_pincode", "live")
        )
        for district, pincode, count in rows:
            cells.cells[(district, pincode)]["live"] += count
    if cells.special_ids:
        for pk in live.filter(facility_key__in=cells.special_ids).values_list("facility_key", flat=True).distinct():
            cells.special[pk]["live"] += 1


def _incentives(cells: _Cells) -> None:
    """DHIS-eligible transactions per cell, from the monthly transactions of the facilities that may earn any.

    A facility earns only in a month with more transactions than its base, so only if its running total (records
    linked plus tokens, counters that only grow) is above that base: one query on the facilities DHIS covers in the
    areas, each with its running total summed by a subquery on its key, picks those; one on the daily counters of
    just those facilities sums their months. Most facilities never get there, so the daily rows read stay few at
    any data size.
    """
    covered = cells.area_q()
    if cells.special_ids:
        covered |= Q(pk__in=cells.special_ids)
    if not covered:
        return
    labs = sorted(DHIS_LAB_TYPES)
    running_total = (
        FacilityTotal.objects.filter(facility_key=OuterRef("pk"), metric__in=DHIS_TRANSACTION_METRICS)
        .values("facility_key")
        .annotate(total=Sum("value"))
        .values("total")
    )
    monthly_base = Case(
        When(facility_type__in=labs, then=Value(settings.DHIS_LAB_BASE)),
        default=F("beds") * Value(settings.DHIS_BASE_PER_BED),
    )
    candidates = list(
        Facility.objects.filter(covered)
        .filter(Q(facility_type__in=labs) | Q(beds__gte=settings.DHIS_MIN_BEDS))
        .order_by()
        .annotate(transactions=Subquery(running_total), monthly_base=monthly_base)
        .filter(transactions__gt=F("monthly_base"))
        .values_list("pk", "district_id", "pincode", "facility_type", "beds")
    )
    places = {pk: (district, pincode) for pk, district, pincode, _, _ in candidates}
    plans = _dhis_plans((pk, facility_type, beds) for pk, _, _, facility_type, beds in candidates)
    special = set(cells.special_ids)
    for pk, incentive in _dhis_by_facility(plans).items():
        district, pincode = places[pk]
        if district in cells.district_set or pincode in cells.pincode_set:
            cells.cells[cells.cell_of(district, pincode)]["dhis"] += incentive.eligible
        if pk in special:
            cells.special[pk]["dhis"] += incentive.eligible


def microsite_metric_values(microsites, metrics, today: datetime.date | None = None) -> dict[int, dict[str, int]]:
    """The live value of each of `metrics` for each microsite (pk -> metric -> value), over its facilities (or its
    area, for ABHA numbers and professionals).

    A fixed number of grouped queries whatever the number of microsites: their areas (three), the facility table
    grouped by district and pincode (facilities registered and verified), the running totals per facility (records
    linked, tokens, ABHA numbers assisted at a facility) and per district (ABHA numbers, professionals), plus the
    latest token day per facility for "live on Scan & Share" and the monthly transaction counters of the covered
    facilities for the DHIS incentive, each only when asked for. Never the accounts, records or tokens tables.
    """
    microsites = list(microsites)
    metrics = set(metrics)
    if not microsites:
        return {}
    areas = _areas(microsites)
    cells = _Cells(areas)
    if metrics & {Metric.FACILITIES_REGISTERED, Metric.FACILITIES_VERIFIED}:
        _facility_figures(cells)
    total_metrics = sorted(
        {FACILITY_TOTAL_METRICS[m] for m in metrics if m in FACILITY_TOTAL_METRICS}
        | ({CountMetric.ABHA_CREATED} if Metric.ABHA_CREATED in metrics else set())
    )
    if total_metrics:
        _facility_totals(cells, total_metrics)
    if Metric.FACILITIES_LIVE_SCAN_SHARE in metrics:
        _live_on_scan_share(cells, today or timezone.localdate())
    if Metric.INCENTIVE_TRANSACTIONS in metrics:
        _incentives(cells)
    district_metrics = [
        metric
        for metric, wanted in (
            (CountMetric.ABHA_CREATED, Metric.ABHA_CREATED),
            (CountMetric.PROFESSIONALS_VERIFIED, Metric.PROFESSIONALS_VERIFIED),
        )
        if wanted in metrics
    ]
    by_district: dict[str, dict[int, int]] = defaultdict(dict)
    if district_metrics and cells.districts:
        rows = CounterTotal.objects.filter(metric__in=district_metrics, district_lgd__in=cells.districts)
        for metric, district, value in rows.values_list("metric", "district_lgd", "value"):
            by_district[metric][district] = value
    cells.index()

    values = {}
    for microsite in microsites:
        area = areas[microsite.pk]
        found = cells.total(area)

        def summed(metric, found=found):
            return sum(v for key, v in found.items() if isinstance(key, tuple) and key[1] == metric)

        result = {}
        for metric in metrics:
            if metric == Metric.FACILITIES_REGISTERED:
                result[metric] = found["registered"]
            elif metric == Metric.FACILITIES_VERIFIED:
                result[metric] = found["verified"]
            elif metric in FACILITY_TOTAL_METRICS:
                result[metric] = summed(FACILITY_TOTAL_METRICS[metric])
            elif metric == Metric.ABHA_CREATED:
                # Created for people of its districts, plus assisted at its facilities for people living elsewhere.
                in_districts = sum(by_district[CountMetric.ABHA_CREATED].get(d, 0) for d in area.districts)
                assisted_elsewhere = sum(
                    v
                    for key, v in found.items()
                    if isinstance(key, tuple) and key[1] == CountMetric.ABHA_CREATED and key[2] not in area.districts
                )
                result[metric] = in_districts + assisted_elsewhere
            elif metric == Metric.PROFESSIONALS_VERIFIED:
                # Professionals registered in the microsite's districts (the counter's district grain).
                result[metric] = sum(by_district[CountMetric.PROFESSIONALS_VERIFIED].get(d, 0) for d in area.districts)
            elif metric == Metric.INCENTIVE_TRANSACTIONS:
                result[metric] = found["dhis"]
            elif metric == Metric.FACILITIES_LIVE_SCAN_SHARE:
                result[metric] = found["live"]
            else:
                raise ValueError(f"Unknown metric {metric!r}")
        values[microsite.pk] = result
    return values


def metric_value(microsite: Microsite, metric: str) -> int:
    """The live value of `metric` for `microsite` (see microsite_metric_values)."""
    return microsite_metric_values([microsite], [metric])[microsite.pk][metric]


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
    microsite: Microsite, today: datetime.date | None = None, values: dict[str, int] | None = None
) -> list[Progress]:
    """Progress of every milestone; each metric is counted once, however many milestones use it.

    `values` (metric -> value, from microsite_metric_values) may be passed in; else they are read, in a fixed
    number of queries.
    """
    milestones = list(microsite.milestones.all())
    if values is None:
        values = microsite_metric_values([microsite], {m.metric for m in milestones}, today)[microsite.pk]
    return [milestone_progress(m, values[m.metric], today) for m in milestones]


@dataclass(frozen=True)
class FirstToReach:
    """A microsite was the first of its state to reach a target that other microsites also race for."""

    metric: str
    target: int
    achieved_at: datetime.datetime

    @property
    def metric_label(self):
        return Metric(self.metric).label


def firsts_csv_cell(firsts) -> str:
    """One CSV cell for a leaderboard row's firsts: "records_linked 200000 2026-03-01; ..." (metric, target, day)."""
    return "; ".join(
        f"{first.metric} {first.target} {timezone.localdate(first.achieved_at).isoformat()}" for first in firsts
    )


def firsts_to_reach() -> dict[int, list[FirstToReach]]:
    """Microsite pk -> the milestones (metric and target) it reached first in its state, among those that at least
    two microsites of the state have ("first to link 2 lakh records"). Two queries on the milestones, whose
    `achieved_at` (stamped once, when first reached) orders the race; a tie goes to the microsite created first."""
    raced = set(
        Milestone.objects.values("microsite__state_id", "metric", "target")
        .annotate(runners=Count("microsite", distinct=True))
        .filter(runners__gte=2)
        .values_list("microsite__state_id", "metric", "target")
    )
    reached = Milestone.objects.filter(achieved_at__isnull=False).order_by("achieved_at", "microsite_id", "due_date")
    firsts: dict[int, list[FirstToReach]] = defaultdict(list)
    won = set()
    for state, microsite, metric, target, achieved_at in reached.values_list(
        "microsite__state_id", "microsite_id", "metric", "target", "achieved_at"
    ):
        race = (state, metric, target)
        if race in raced and race not in won:
            won.add(race)
            firsts[microsite].append(FirstToReach(metric=metric, target=target, achieved_at=achieved_at))
    return firsts


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
    firsts: tuple[FirstToReach, ...] = ()


def leaderboard(microsites) -> list[LeaderboardRow]:
    """Ranked by share of milestones achieved, then records linked, then facilities verified, then name.

    A fixed number of queries whatever the number of microsites (see microsite_metric_values).

    The microsite that achieved all its milestones earliest is marked `first_to_complete`; each row lists the
    targets its microsite reached first in the state (`firsts`, see firsts_to_reach), also when the leaderboard
    shows only some microsites (a district's).
    """
    if isinstance(microsites, QuerySet):  # its rows need the milestones only (not microsites_for's districts)
        microsites = microsites.prefetch_related(None).prefetch_related("milestones")
    microsites = list(microsites)
    prefetch_related_objects(microsites, "milestones")
    wanted = {m.metric for microsite in microsites for m in microsite.milestones.all()}
    values = microsite_metric_values(microsites, wanted | {Metric.RECORDS_LINKED, Metric.FACILITIES_VERIFIED})
    rows = []
    for microsite in microsites:
        progress = microsite_progress(microsite, values=values[microsite.pk])
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
                "records_linked": values[microsite.pk][Metric.RECORDS_LINKED],
                "facilities_verified": values[microsite.pk][Metric.FACILITIES_VERIFIED],
                "completed_at": completed_at,
            }
        )
    rows.sort(key=lambda r: (-r["share"], -r["records_linked"], -r["facilities_verified"], r["microsite"].name))
    completed = [r for r in rows if r["completed_at"]]
    first = min(completed, key=lambda r: r["completed_at"]) if completed else None
    firsts = firsts_to_reach() if rows else {}
    return [
        LeaderboardRow(
            rank=index, first_to_complete=row is first, firsts=tuple(firsts.get(row["microsite"].pk, ())), **row
        )
        for index, row in enumerate(rows, start=1)
    ]


@dataclass(frozen=True)
class PublicFirst:
    """A microsite that reached a target first (or completed all its milestones first: metric "")."""

    microsite: str
    metric: str
    target: int
    day: datetime.date

    @property
    def metric_label(self):
        return Metric(self.metric).label if self.metric else ""


@dataclass(frozen=True)
class PublicAchievements:
    """The state's figures for the public achievements page: nothing about any person."""

    as_of: datetime.datetime
    summary: dict
    facilities_registered: int
    tokens_total: int
    districts: list
    microsites: int
    completed: list[str]
    firsts: list[PublicFirst]


def public_achievements(state_lgd: int) -> PublicAchievements:
    """The state's headline numbers, districts and microsites, read exactly as a state official's dashboard reads
    them (microsites.dashboard.summary and district_rows over all the state's districts, the leaderboard of its
    microsites), plus two running totals the dashboard does not show: facilities registered, tokens ever issued.

    Queries: the dashboard's summary and district rows (about ten, on the counter tables), one for two totals, the
    leaderboard's fixed number; never the accounts, records or tokens tables. District names are in the active
    language: cache per language.
    """
    districts = District.objects.filter(state_id=state_lgd).order_by("lgd_code")
    ids = list(districts.values_list("pk", flat=True))
    board = leaderboard(Microsite.objects.filter(state_id=state_lgd))
    firsts = [
        PublicFirst(row.microsite.name, first.metric, first.target, timezone.localdate(first.achieved_at))
        for row in board
        for first in row.firsts
    ]
    firsts += [
        PublicFirst(row.microsite.name, "", 0, timezone.localdate(row.completed_at))
        for row in board
        if row.first_to_complete
    ]
    totals = counters.running_totals([CountMetric.FACILITIES_REGISTERED, CountMetric.SCAN_TOKENS], ids)
    return PublicAchievements(
        as_of=timezone.now(),
        summary=dashboard.summary(districts),
        facilities_registered=totals[CountMetric.FACILITIES_REGISTERED],
        tokens_total=totals[CountMetric.SCAN_TOKENS],
        districts=dashboard.district_rows(districts),
        microsites=len(board),
        completed=sorted(row.microsite.name for row in board if row.completed_at),
        firsts=sorted(firsts, key=lambda first: first.day),
    )
