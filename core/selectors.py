"""Reads owned by core: geography and population denominators."""

from django.db.models import QuerySet

from .models import AuditEvent, District, PopulationFigure


def districts_of_state(state_lgd: int) -> QuerySet[District]:
    return District.objects.filter(state_id=state_lgd).order_by("name")


def population_for(*, district: District | None = None, state_lgd: int | None = None, year: int) -> int | None:
    """The newest population figure at or before `year` (or the earliest after it), or None.

    One query. None means "no denominator": callers show "no figure" rather than a ratio.
    """
    figures = PopulationFigure.objects.all()
    if district is not None:
        figures = figures.filter(district=district)
    else:
        figures = figures.filter(state_id=state_lgd, district__isnull=True)
    figure = figures.filter(year__lte=year).order_by("-year").first() or figures.order_by("year").first()
    return figure.population if figure else None


def coverage_ratio(count: int, population: int | None) -> float | None:
    """count / population, or None when there is no usable denominator."""
    if not population or population <= 0:
        return None
    return count / population


def audit_trail_for(target) -> QuerySet[AuditEvent]:
    """Audit rows about one object, newest first (one indexed query)."""
    return AuditEvent.objects.for_target(
        target._meta.label_lower, str(getattr(target, "uuid", None) or target.pk)
    ).select_related("actor")
