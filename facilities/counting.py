"""Keeps the dashboard counters (core.counters) in step with facility status changes."""

from core.counters import count_add
from core.enums import FACILITY_REGISTERED_STATES, CountMetric

from .enums import FacilityStatus

_COUNTED_STATES = {
    CountMetric.FACILITIES_REGISTERED: FACILITY_REGISTERED_STATES,
    CountMetric.FACILITIES_VERIFIED: frozenset({FacilityStatus.VERIFIED}),
}


def facility_status_counted(*, facility, old_status: str) -> None:
    """Call inside the transaction that moved `facility` from `old_status` to its current status."""
    for metric, states in _COUNTED_STATES.items():
        delta = int(facility.status in states) - int(old_status in states)
        if delta:
            count_add(metric=metric, district_lgd=facility.district_id, facility_key=facility.pk, delta=delta)
