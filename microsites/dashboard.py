"""Reads for the state dashboard: headline numbers and coverage by district, scoped to the viewer.

Every number comes from the counter tables (core.counters): the requests never count the accounts,
facilities, professionals, records or tokens tables, so they take the same time at any data size.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from core import access, counters
from core.enums import FACILITY_STATUS_METRICS, CountMetric
from core.models import District, PopulationFigure
from core.selectors import coverage_ratio
from facilities.enums import FacilityStatus
from records.abdm_linking import ABDM_LINKED_METRIC


def dashboard_districts(user, state_lgd: int):
    """The state's districts whose figures the viewer may see (core.access, "view_dashboard": all for state
    officials, their own for district officers, none for anyone else). One query on the districts when read."""
    return access.scope(user, District.objects.filter(state_id=state_lgd), "view_dashboard")


def _latest_populations(district_ids, year: int) -> dict[int, int]:
    """District -> newest population figure at or before `year` (else the earliest), in one query."""
    figures = PopulationFigure.objects.filter(district_id__in=district_ids).order_by("district_id", "year")
    chosen: dict[int, tuple[int, int]] = {}
    for district_id, figure_year, population in figures.values_list("district_id", "year", "population"):
        current = chosen.get(district_id)
        if current is None or (figure_year <= year and (current[0] > year or figure_year > current[0])):
            chosen[district_id] = (figure_year, population)
    return {district_id: population for district_id, (_, population) in chosen.items()}


@dataclass(frozen=True)
class DistrictRow:
    lgd_code: int
    name: str
    local_name: str
    abha_accounts: int
    population: int | None
    coverage_percent: float | None
    facilities_verified: int


def district_rows(districts, year: int | None = None) -> list[DistrictRow]:
    """Per district: active ABHA accounts, the population denominator, coverage and verified facilities.

    Three grouped queries (two on the counter table) whatever the number of districts or accounts.
    Sorted by coverage, highest first; districts without a denominator come last (never a division by zero).
    """
    year = year or timezone.localdate().year
    districts = list(districts)
    ids = [d.pk for d in districts]
    accounts = counters.totals_by_district(CountMetric.ABHA_ACTIVE, ids)
    verified = counters.totals_by_district(CountMetric.FACILITIES_VERIFIED, ids)
    populations = _latest_populations(ids, year)
    rows = []
    for district in districts:
        count = accounts.get(district.pk, 0)
        population = populations.get(district.pk)
        ratio = coverage_ratio(count, population)
        rows.append(
            DistrictRow(
                lgd_code=district.pk,
                name=district.name,
                local_name=district.local_name,
                abha_accounts=count,
                population=population,
                coverage_percent=round(100 * ratio, 4) if ratio is not None else None,
                facilities_verified=verified.get(district.pk, 0),
            )
        )
    rows.sort(key=lambda r: (r.coverage_percent is None, -(r.coverage_percent or 0), r.name))
    return rows


def summary(districts, year: int | None = None) -> dict:
    """Headline numbers over `districts`: ABHA accounts and coverage, facilities by status, records, tokens.

    Queries: three for the district rows, one on the running totals (facilities by status, professionals,
    records), three sums over this month's daily counters; none on the source tables.
    """
    rows = district_rows(districts, year)
    ids = [r.lgd_code for r in rows]
    accounts = sum(r.abha_accounts for r in rows)
    population = sum(r.population for r in rows if r.population)
    ratio = coverage_ratio(accounts, population)
    totals = counters.running_totals(
        [
            *FACILITY_STATUS_METRICS.values(),
            CountMetric.PROFESSIONALS_VERIFIED,
            CountMetric.RECORDS_LINKED,
            ABDM_LINKED_METRIC,
        ],
        ids,
    )
    by_status = {status: totals[FACILITY_STATUS_METRICS[status]] for status in FacilityStatus.values}
    today = timezone.localdate()
    return {
        "abha_accounts": accounts,
        "population": population or None,
        "abha_coverage_percent": round(100 * ratio, 4) if ratio is not None else None,
        "facilities_verified": by_status[FacilityStatus.VERIFIED],
        "facilities_submitted": by_status[FacilityStatus.SUBMITTED],
        "facilities_by_status": by_status,
        "professionals_verified": totals[CountMetric.PROFESSIONALS_VERIFIED],
        "records_linked": totals[CountMetric.RECORDS_LINKED],
        # What ABDM confirmed as linked (the figure ABDM counts); the local count above runs ahead of it while
        # confirmations arrive.
        "records_linked_on_abdm": totals[ABDM_LINKED_METRIC],
        "records_waiting_for_abdm": max(totals[CountMetric.RECORDS_LINKED] - totals[ABDM_LINKED_METRIC], 0),
        "tokens_today": counters.total(CountMetric.SCAN_TOKENS, ids, since=today),
        "tokens_this_month": counters.total(CountMetric.SCAN_TOKENS, ids, since=today.replace(day=1)),
        "abha_created_today": counters.total(CountMetric.ABHA_CREATED, ids, since=today),
    }


def timeseries(districts, metric: str, interval: str, since=None, until=None) -> list[dict]:
    """Changes of `metric` per day or month, oldest first, from the counter table."""
    ids = [d.pk for d in districts]
    return [
        {"period": period, "value": value}
        for period, value in counters.series(metric, ids, since=since, until=until, interval=interval)
    ]


# Without a start date, the trend chart shows at least this many days or months up to today.
TREND_WINDOW = {"day": 30, "month": 12}


def _next_period(period: datetime.date, interval: str) -> datetime.date:
    if interval == "month":
        return (period.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return period + datetime.timedelta(days=1)


def trend_periods(points: list[dict], interval: str, since=None, until=None) -> list[dict]:
    """`points` (timeseries' answer) with every day or month of the range, the empty ones as 0, so a chart of them
    reads as a time series. The range runs from `since` (else the earlier of the first point and a window of
    TREND_WINDOW periods ending today) to `until` (else the later of today and the last point). No query."""
    today = timezone.localdate()
    values = {point["period"]: point["value"] for point in points}
    if since is None:
        window = TREND_WINDOW.get(interval, 30)
        if interval == "month":
            start = today.replace(day=1)
            for _ in range(window - 1):
                start = (start - datetime.timedelta(days=1)).replace(day=1)
        else:
            start = today - datetime.timedelta(days=window - 1)
        since = min([start, *values])
    end = until or max([today, *values])
    period = since.replace(day=1) if interval == "month" else since
    end = end.replace(day=1) if interval == "month" else end
    filled = []
    while period <= end:
        filled.append({"period": period, "value": values.get(period, 0)})
        period = _next_period(period, interval)
    return filled
