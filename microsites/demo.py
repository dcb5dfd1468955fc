"""Gujarat's microsites, on a timeline that ends today: Bhavnagar, Ahmedabad and Surat completed their milestones
inside the nine-month deadline, Rajkot is close. With DEMO_SCALE (1/N of Gujarat, see demo_scale) the state's data
is seeded first, Bhavnagar is the first to link its records target, and 96 more microsites (clusters of pincodes
elsewhere in the state) make ABDM's 100.

Every target is a value the data had on a past day, and every `achieved_at` is the day the data crossed it (from the
daily counters), so the dates agree with the charts.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from core.enums import CountMetric
from core.models import DailyCount, District, DistrictDailyCount, State
from facilities.enums import FacilityStatus
from facilities.models import Facility

from . import demo_scale
from .enums import Category, Metric
from .models import Microsite, Milestone
from .selectors import microsite_metric_values
from .services import default_deadline

GUJARAT = 24
BHAVNAGAR, AHMADABAD, SURAT, RAJKOT = 443, 438, 459, 457
# name, district (LGD), category, agency, days before today it started
DEMO_MICROSITES = [
    ("Bhavnagar", BHAVNAGAR, Category.B, "Bhavnagar Health Informatics Cell", 330),
    ("Ahmedabad", AHMADABAD, Category.A, "Ahmedabad Municipal Corporation Health Dept.", 300),
    ("Surat", SURAT, Category.A, "Surat Municipal Corporation Health Dept.", 300),
    ("Rajkot", RAJKOT, Category.B, "Rajkot Digital Health Mission Unit", 240),
]
METRICS = [Metric.FACILITIES_REGISTERED, Metric.FACILITIES_VERIFIED, Metric.ABHA_CREATED]
COUNTER_OF = {
    Metric.FACILITIES_REGISTERED: CountMetric.FACILITIES_REGISTERED,
    Metric.FACILITIES_VERIFIED: CountMetric.FACILITIES_VERIFIED,
    Metric.ABHA_CREATED: CountMetric.ABHA_CREATED,
    Metric.RECORDS_LINKED: CountMetric.RECORDS_LINKED,
}
RACE_MONTHS = 6  # the shared target is due six months after each microsite's start
CLUSTERS = 96  # ABDM's 100 microsites


def seed(*, out, **_) -> dict:
    scale = getattr(settings, "DEMO_SCALE", 0)
    today = timezone.localdate()
    starts = {district: today - datetime.timedelta(days=ago) for _, district, _, _, ago in DEMO_MICROSITES}
    seeded = demo_scale.seeded_scale()
    if scale and seeded is None:
        out.write(f"  Gujarat at 1/{scale}:")
        demo_scale.seed(scale=scale, out=out, campaigns=starts, champion=BHAVNAGAR)
    elif seeded:
        out.write(f"  Gujarat at 1/{seeded}: already seeded (a new database seeds again)")
        scale = seeded
    gujarat = State.objects.get(lgd_code=GUJARAT)
    # Targets already set: two microsites with the same metric and target race for it (firsts_to_reach), so only
    # the shared target is set twice.
    used = set(Milestone.objects.values_list("metric", "target"))
    microsites = [_named(gujarat, row, today, scale, used) for row in DEMO_MICROSITES]
    if scale:
        microsites += _clusters(gujarat, today, used)
    out.write(f"  microsites: {len(microsites)} ({', '.join(m.name for m in microsites[:4])}, ...)")
    # Microsites and milestones are not counted; the state's rows came with their counters (generate_scale).
    return {"microsites": microsites, "counters_exact": True}


def _named(gujarat, row, today, scale, used) -> Microsite:
    name, district, category, agency, ago = row
    start = today - datetime.timedelta(days=ago)
    microsite, created = Microsite.objects.get_or_create(
        name=name,
        defaults={
            "state": gujarat,
            "category": category,
            "agency": agency,
            "start_date": start,
            "deadline": default_deadline(start),
        },
    )
    if not created:
        return microsite
    microsite.districts.set(District.objects.filter(lgd_code=district))
    # Completed ones were set what the data had three weeks before the deadline; Rajkot, due later, last week's,
    # but its verified facilities a tenth more than today's ("close").
    measured = min(today - datetime.timedelta(days=7), microsite.deadline - datetime.timedelta(days=20))
    values = microsite_metric_values([microsite], METRICS)[microsite.pk]
    for metric in METRICS:
        history = _history(COUNTER_OF[metric], districts=[district])
        target = _round(_value_on(history, measured)) or values[metric] or 1
        if name == "Rajkot" and metric == Metric.FACILITIES_VERIFIED:
            target = values[metric] + max(1, values[metric] // 10)
        target = _unused(used, metric, target, values[metric])
        _add(microsite, metric, target, microsite.deadline, values[metric], history)
    # The race every microsite shares: with the state's data, the records target of "first to link 2 lakh
    # records"; without it (tests), an ABHA target all four reached.
    race = Metric.RECORDS_LINKED if scale else Metric.ABHA_CREATED
    target = demo_scale.RECORDS_RACE // scale if scale else _race_target()
    value = microsite_metric_values([microsite], [race])[microsite.pk][race]
    due = start + relativedelta(months=RACE_MONTHS)
    used.add((race, max(1, target)))
    _add(microsite, race, max(1, target), due, value, _history(COUNTER_OF[race], districts=[district]))
    return microsite


def _race_target() -> int:
    """Without the state's data: the smallest number of ABHA numbers any of the four districts has."""
    values = DistrictDailyCount.objects.filter(
        metric=CountMetric.ABHA_CREATED, district_lgd__in=[row[1] for row in DEMO_MICROSITES]
    )
    totals = dict(values.values("district_lgd").annotate(n=Sum("value")).values_list("district_lgd", "n"))
    return min(totals.get(row[1], 0) for row in DEMO_MICROSITES) or 1


def _clusters(gujarat, today, used) -> list[Microsite]:
    """Up to CLUSTERS microsites over the pincodes of the registered facilities outside the four districts (a few
    pincodes each), started over the past ten months; some completed, some missed, some still running."""
    named = {row[1] for row in DEMO_MICROSITES}
    places = sorted(
        set(
            Facility.objects.exclude(district_id__in=named)
            .filter(status__in=[FacilityStatus.VERIFIED, FacilityStatus.SUBMITTED], district__isnull=False)
            .values_list("district_id", "pincode")
        )
    )
    count = min(CLUSTERS, len(places))
    districts = {d.pk: d.name for d in District.objects.filter(pk__in={d for d, _ in places})}
    microsites, numbers = [], {}
    for index in range(count):
        group = places[index * len(places) // count : (index + 1) * len(places) // count]
        district = group[0][0]
        numbers[district] = numbers.get(district, 0) + 1
        start = today - datetime.timedelta(days=300 - index * 270 // max(1, count - 1))
        microsite, created = Microsite.objects.get_or_create(
            name=f"{districts[district]} cluster {numbers[district]}",
            defaults={
                "state": gujarat,
                "category": Category.B,
                "agency": f"{districts[district]} District Health Society",
                "start_date": start,
                "deadline": default_deadline(start),
                "pincodes": sorted({pincode for _, pincode in group}),
            },
        )
        microsites.append(microsite)
        if created:
            _cluster_milestone(microsite, index, today, used)
    return microsites


def _cluster_milestone(microsite: Microsite, index: int, today, used) -> None:
    """Records linked by the deadline: completed (what it had ten days before the deadline), missed (one in four of
    the past ones) or still running (a fifth or more above today's)."""
    metric = Metric.RECORDS_LINKED
    value = microsite_metric_values([microsite], [metric])[microsite.pk][metric]
    keys = list(Facility.objects.filter(pincode__in=microsite.pincodes).values_list("pk", flat=True))
    history = _history(COUNTER_OF[metric], facilities=keys)
    if microsite.deadline < today and index % 4 != 3:
        target = _value_on(history, microsite.deadline - datetime.timedelta(days=10)) or value
    else:
        target = value + max(1, value * (2 + index % 3) // 10)
    _add(microsite, metric, _unused(used, metric, max(1, target), value), microsite.deadline, value, history)


def _unused(used: set, metric: str, target: int, value: int) -> int:
    """`target`, or the nearest number no other microsite has for `metric` (so that no race is made by chance), on
    the same side of today's `value` (a reached target stays reached)."""
    step = -1 if target <= value else 1
    while (metric, target) in used or target < 1:
        if target < 1:
            target, step = value + 1, 1
        target += step
    used.add((metric, target))
    return target


def _add(microsite, metric, target, due, value, history) -> None:
    """A milestone, stamped achieved on the day the data crossed its target (today if the history misses it)."""
    achieved = None
    if value >= target:
        day = _crossed(history, target) or timezone.localdate()
        achieved = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    Milestone.objects.get_or_create(
        microsite=microsite, metric=metric, due_date=due, defaults={"target": target, "achieved_at": achieved}
    )


def _history(metric: str, *, districts=None, facilities=None) -> list[tuple[datetime.date, int]]:
    """(day, change) of a counter over some districts or facilities, oldest first (one grouped query)."""
    if facilities is not None:
        rows = DailyCount.objects.filter(metric=metric, facility_key__in=facilities)
    else:
        rows = DistrictDailyCount.objects.filter(metric=metric, district_lgd__in=districts)
    return list(rows.values("day").annotate(n=Sum("value")).order_by("day").values_list("day", "n"))


def _value_on(history, day) -> int:
    return sum(n for d, n in history if d <= day)


def _crossed(history, target) -> datetime.date | None:
    total = 0
    for day, change in history:
        total += change
        if total >= target:
            return day
    return None


def _round(value: int) -> int:
    """Down to two significant digits (a target an official would set: 13,742 -> 13,000)."""
    if value < 100:
        return value
    unit = 10 ** (len(str(value)) - 2)
    return value // unit * unit
