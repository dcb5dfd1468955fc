"""Keeps the dashboard counters (core.counters) in step with facility status changes.

Each facility counts once in the counter of its status (core.enums.FACILITY_STATUS_METRICS), and in
FACILITIES_REGISTERED while submitted, verified or suspended, at its district. Every service that
creates a facility, changes its status or moves it to another district calls one of these inside
its transaction, so the dashboard's "facilities by status" never counts the facility table.
"""

from collections import Counter as Tally
from collections.abc import Iterable

from django.utils import timezone

from core.counters import count_add, count_add_many
from core.enums import FACILITY_REGISTERED_STATES, FACILITY_STATUS_METRICS, CountMetric


def _metrics_of(status: str | None) -> set[str]:
    if status is None:
        return set()
    metrics = {FACILITY_STATUS_METRICS[status]} if status in FACILITY_STATUS_METRICS else set()
    if status in FACILITY_REGISTERED_STATES:
        metrics.add(CountMetric.FACILITIES_REGISTERED)
    return metrics


def facility_status_counted(*, facility, old_status: str | None) -> None:
    """Call inside the transaction that moved `facility` from `old_status` (None: just created) to its status."""
    before, after = _metrics_of(old_status), _metrics_of(facility.status)
    for metric in sorted(before ^ after):
        delta = 1 if metric in after else -1
        count_add(metric=metric, district_lgd=facility.district_id, facility_key=facility.pk, delta=delta)


def facility_district_counted(*, facility, old_district_id: int | None) -> None:
    """Call inside the transaction that moved `facility` from `old_district_id` to its district."""
    if old_district_id == facility.district_id:
        return
    for metric in sorted(_metrics_of(facility.status)):
        count_add(metric=metric, district_lgd=old_district_id, facility_key=facility.pk, delta=-1)
        count_add(metric=metric, district_lgd=facility.district_id, facility_key=facility.pk, delta=1)


def facilities_created_counted(facilities: Iterable) -> None:
    """Count facilities inserted in bulk (saved, with their status), a few set-based upserts in all."""
    today = timezone.localdate()
    tallies: dict[str, Tally] = {}
    for facility in facilities:
        for metric in _metrics_of(facility.status):
            tallies.setdefault(metric, Tally())[(facility.district_id or 0, facility.pk)] += 1
    for metric, tally in sorted(tallies.items()):
        count_add_many(metric=metric, rows=[(today, d, f, n) for (d, f), n in tally.items()])
