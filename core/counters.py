"""Exact dashboard counters, so dashboards never count the big tables.

Four tables, kept together by every change: DailyCount (metric x day x district x facility, the grain of
record), DistrictDailyCount (the same summed over facilities: date ranges and trends), CounterTotal (running total
per district) and FacilityTotal (running total per facility, and the latest day with a positive change: microsites).

Services call `count_add` inside the transaction that makes the change. Each app registers, per
metric, a *source*: a function returning the rows the counter table should hold, computed from
the source tables. `rebuild` compares both, reports drift and, with fix=True, replaces the rows.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from .models import CounterTotal, DailyCount, DistrictDailyCount, FacilityTotal

Row = tuple[datetime.date, int, int, int]  # day, district LGD, facility key, value
_sources: dict[str, Callable[[], Iterable[Row]]] = {}
_exact_days: set[str] = set()  # metrics whose source gives each change on the day it was counted

# The four upserts (daily row, district day, running total, facility total) in one round trip per counted event
# (every token, enrollment...): the SQL function of migrations core 0007/0008/0010/0011, which one-statement write
# paths (the Scan & Share function) call too.
_COUNT_ADD_FUNCTION = "SELECT core_count_add(%s::text, %s::date, %s::integer, %s::bigint, %s::bigint)"


def count_add(
    *,
    metric: str,
    district_lgd: int | None,
    facility_key: int | None = None,
    delta: int = 1,
    day: datetime.date | None = None,
) -> None:
    """Add `delta` to one counter row and its running totals. Call it inside the transaction of the event."""
    day = day or timezone.localdate()
    daily = [metric, day, district_lgd or 0, facility_key or 0, delta]
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_ADD_FUNCTION, daily)


def count_add_many(*, metric: str, rows: Iterable[Row]) -> None:
    """Add many (day, district, facility, delta) changes at once (bulk loads).

    The rows are COPied into a temporary table and merged with one set-based upsert per table, in key
    order: two loads at once (generate_scale's writers) lock shared rows in the same order, so they never deadlock.
    """
    params = [(metric, day, district or 0, facility or 0, delta) for day, district, facility, delta in rows]
    if not params:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS counts_in (metric text, day date, district_lgd int, "
            "facility_key bigint, value bigint) ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy("COPY counts_in FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        cursor.execute(
            "INSERT INTO core_dailycount (metric, day, district_lgd, facility_key, value) "
            "SELECT metric, day, district_lgd, facility_key, SUM(value) FROM counts_in "
            "GROUP BY metric, day, district_lgd, facility_key ORDER BY metric, day, district_lgd, facility_key "
            "ON CONFLICT (metric, day, district_lgd, facility_key) "
            "DO UPDATE SET value = core_dailycount.value + excluded.value"
        )
        cursor.execute(
            "INSERT INTO core_districtdailycount (metric, day, district_lgd, value) "
            "SELECT metric, day, district_lgd, SUM(value) FROM counts_in GROUP BY metric, day, district_lgd "
            "ORDER BY metric, day, district_lgd ON CONFLICT (metric, day, district_lgd) "
            "DO UPDATE SET value = core_districtdailycount.value + excluded.value"
        )
        cursor.execute(
            "INSERT INTO core_countertotal (metric, district_lgd, value) "
            "SELECT metric, district_lgd, SUM(value) FROM counts_in GROUP BY metric, district_lgd "
            "ORDER BY metric, district_lgd "
            "ON CONFLICT (metric, district_lgd) DO UPDATE SET value = core_countertotal.value + excluded.value"
        )
        cursor.execute(
            "INSERT INTO core_facilitytotal (metric, facility_key, district_lgd, value, last_day) "
            "SELECT metric, facility_key, district_lgd, SUM(value), MAX(day) FILTER (WHERE value > 0) FROM counts_in "
            "WHERE facility_key <> 0 GROUP BY metric, facility_key, district_lgd "
            "ORDER BY metric, facility_key, district_lgd ON CONFLICT (metric, facility_key, district_lgd) "
            "DO UPDATE SET value = core_facilitytotal.value + excluded.value, "
            "last_day = GREATEST(core_facilitytotal.last_day, excluded.last_day)"
        )
        cursor.execute("TRUNCATE counts_in")


def source(metric: str, *, exact_days: bool = False):
    """Register `fn() -> iterable of (day, district_lgd, facility_key, value)` as the truth for `metric`.

    `exact_days`: the source gives each change on the day `count_add` counted it (a token's day), so `rebuild`
    can check the days too (FacilityTotal.last_day), not only the sums.
    """

    def register(fn):
        _sources[metric] = fn
        if exact_days:
            _exact_days.add(metric)
        return fn

    return register


def registered_metrics() -> list[str]:
    return sorted(_sources)


def totals_by_district(
    metric: str, district_ids: Iterable[int] | None = None, until: datetime.date | None = None
) -> dict[int, int]:
    """Sum of `metric` per district: the running totals, or the district's days up to `until` (one query)."""
    if until is None:
        totals = CounterTotal.objects.filter(metric=metric)
        if district_ids is not None:
            totals = totals.filter(district_lgd__in=list(district_ids))
        return dict(totals.values_list("district_lgd", "value"))
    rows = DistrictDailyCount.objects.filter(metric=metric)
    if district_ids is not None:
        rows = rows.filter(district_lgd__in=list(district_ids))
    if until is not None:
        rows = rows.filter(day__lte=until)
    return dict(rows.values("district_lgd").annotate(total=Sum("value")).values_list("district_lgd", "total"))


def running_totals(metrics: Iterable[str], district_ids: Iterable[int] | None = None) -> dict[str, int]:
    """All-time sum of each metric over the districts, from the running totals (one query, 33 rows per metric)."""
    metrics = list(metrics)
    rows = CounterTotal.objects.filter(metric__in=metrics)
    if district_ids is not None:
        rows = rows.filter(district_lgd__in=list(district_ids))
    found = dict(rows.values("metric").annotate(total=Sum("value")).values_list("metric", "total"))
    return {metric: found.get(metric) or 0 for metric in metrics}


def total(
    metric: str,
    district_ids: Iterable[int] | None = None,
    *,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> int:
    """Sum of `metric` over the districts between two days (one query on the per-district days)."""
    rows = DistrictDailyCount.objects.filter(metric=metric)
    if district_ids is not None:
        rows = rows.filter(district_lgd__in=list(district_ids))
    if since is not None:
        rows = rows.filter(day__gte=since)
    if until is not None:
        rows = rows.filter(day__lte=until)
    return rows.aggregate(total=Sum("value"))["total"] or 0


def series(
    metric: str,
    district_ids: Iterable[int] | None = None,
    *,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    interval: str = "day",
) -> list[tuple[datetime.date, int]]:
    """(period start, sum) for each day or month with a non-zero change, oldest first."""
    rows = DistrictDailyCount.objects.filter(metric=metric)
    if district_ids is not None:
        rows = rows.filter(district_lgd__in=list(district_ids))
    if since is not None:
        rows = rows.filter(day__gte=since)
    if until is not None:
        rows = rows.filter(day__lte=until)
    buckets: dict[datetime.date, int] = defaultdict(int)
    for day, value in rows.values("day").annotate(total=Sum("value")).values_list("day", "total"):
        key = day.replace(day=1) if interval == "month" else day
        buckets[key] += value
    return sorted(buckets.items())


def _district_totals(rows: Iterable[Row]) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for _, district, _, value in rows:
        totals[district] += value
    return totals


def _district_day_totals(rows: Iterable[Row]) -> dict[tuple[datetime.date, int], int]:
    totals: dict[tuple[datetime.date, int], int] = defaultdict(int)
    for day, district, _, value in rows:
        totals[(day, district or 0)] += value
    return totals


def _facility_totals(rows: Iterable[Row]) -> dict[tuple[int, int], tuple[int, datetime.date | None]]:
    """(facility, district) -> (running total, latest day with a positive change)."""
    totals: dict[tuple[int, int], int] = defaultdict(int)
    last_days: dict[tuple[int, int], datetime.date] = {}
    for day, district, facility, value in rows:
        if facility:
            key = (facility, district or 0)
            totals[key] += value
            if value > 0 and (key not in last_days or day > last_days[key]):
                last_days[key] = day
    return {key: (value, last_days.get(key)) for key, value in totals.items()}


def rebuild(metrics: Iterable[str] | None = None, *, fix: bool = False) -> list[dict]:
    """Recompute each metric from its source; return drift and, if `fix`, rewrite the counters.

    Drift is judged on district totals (what the dashboards show), with the daily rows summed, the district's
    days summed and the running total per district, and on the running totals per facility (what microsite
    milestones show; these rows have a `facility_key`). An incremental counter may hold a change on the day it
    happened where the source recomputes it on the creation day, so single days are not compared.
    """
    drift = []
    for metric in metrics or registered_metrics():
        truth = list(_sources[metric]())
        expected = _district_totals(truth)
        actual = dict(
            DailyCount.objects.filter(metric=metric)
            .values("district_lgd")
            .annotate(total=Sum("value"))
            .values_list("district_lgd", "total")
        )
        totals = totals_by_district(metric)
        by_days = dict(
            DistrictDailyCount.objects.filter(metric=metric)
            .values("district_lgd")
            .annotate(total=Sum("value"))
            .values_list("district_lgd", "total")
        )
        for district in sorted(set(expected) | set(actual) | set(totals) | set(by_days)):
            source_value = expected.get(district, 0)
            if not source_value == actual.get(district, 0) == totals.get(district, 0) == by_days.get(district, 0):
                drift.append(
                    {
                        "metric": metric,
                        "district_lgd": district,
                        "counted": totals.get(district, 0),
                        "daily": actual.get(district, 0),
                        "days": by_days.get(district, 0),
                        "source": source_value,
                    }
                )
        expected_by_facility = _facility_totals(truth)
        by_facility = {
            (facility, district): (value, last_day)
            for facility, district, value, last_day in FacilityTotal.objects.filter(metric=metric).values_list(
                "facility_key", "district_lgd", "value", "last_day"
            )
        }
        for facility, district in sorted(set(expected_by_facility) | set(by_facility)):
            counted, counted_day = by_facility.get((facility, district), (0, None))
            source_value, source_day = expected_by_facility.get((facility, district), (0, None))
            days_differ = metric in _exact_days and counted_day != source_day
            if counted != source_value or days_differ:
                found = {
                    "metric": metric,
                    "district_lgd": district,
                    "facility_key": facility,
                    "counted": counted,
                    "source": source_value,
                }
                if days_differ:
                    found.update(counted_last_day=counted_day, source_last_day=source_day)
                drift.append(found)
        if fix:
            with transaction.atomic():
                CounterTotal.objects.filter(metric=metric).delete()
                CounterTotal.objects.bulk_create(
                    [
                        CounterTotal(metric=metric, district_lgd=district or 0, value=value)
                        for district, value in expected.items()
                        if value
                    ]
                )
                FacilityTotal.objects.filter(metric=metric).delete()
                FacilityTotal.objects.bulk_create(
                    [
                        FacilityTotal(
                            metric=metric, facility_key=facility, district_lgd=district, value=value, last_day=last_day
                        )
                        for (facility, district), (value, last_day) in expected_by_facility.items()
                        if value
                    ],
                    batch_size=5000,
                )
                DistrictDailyCount.objects.filter(metric=metric).delete()
                DistrictDailyCount.objects.bulk_create(
                    [
                        DistrictDailyCount(metric=metric, day=day, district_lgd=district, value=value)
                        for (day, district), value in _district_day_totals(truth).items()
                        if value
                    ],
                    batch_size=5000,
                )
                DailyCount.objects.filter(metric=metric).delete()
                DailyCount.objects.bulk_create(
                    [
                        DailyCount(
                            metric=metric, day=day, district_lgd=district or 0, facility_key=facility or 0, value=value
                        )
                        for day, district, facility, value in truth
                        if value
                    ],
                    batch_size=5000,
                )
    return drift
