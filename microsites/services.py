"""Writes for microsites and milestones. Each checks access and writes its audit row."""

import datetime

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import access
from core.exceptions import DomainError, NotAllowed
from core.services import audit_record

from .models import MICROSITE_MONTHS, Microsite, Milestone
from .selectors import microsite_metric_values


def default_deadline(start_date: datetime.date) -> datetime.date:
    return start_date + relativedelta(months=MICROSITE_MONTHS)


@transaction.atomic
def microsite_create(
    *,
    actor,
    name: str,
    state,
    districts,
    category: str,
    start_date: datetime.date,
    deadline: datetime.date | None = None,
    agency: str = "",
    pincodes: list[str] | None = None,
    request=None,
) -> Microsite:
    """Create a microsite (state officials). The deadline defaults to start + 9 months."""
    if not access.can(actor, "add", Microsite):
        raise NotAllowed(_("Only state officials create microsites."))
    deadline = deadline or default_deadline(start_date)
    if deadline <= start_date:
        raise DomainError(
            _("The deadline must be after the start date."), fields={"deadline": [_("After the start date.")]}
        )
    microsite = Microsite.objects.create(
        name=name,
        state=state,
        category=category,
        agency=agency,
        start_date=start_date,
        deadline=deadline,
        pincodes=sorted(set(pincodes or [])),
    )
    microsite.districts.set(districts)
    audit_record(actor=actor, action="microsite.create", target=microsite, request=request)
    return microsite


@transaction.atomic
def milestone_add(
    *, actor, microsite: Microsite, metric: str, target: int, due_date: datetime.date, request=None
) -> Milestone:
    """Add a milestone to a microsite (state officials, or district officers of its districts)."""
    if not access.can(actor, "manage_milestones", microsite):
        raise NotAllowed(_("You may not define milestones for this microsite."))
    if target < 1:
        raise DomainError(_("The target must be at least 1."), fields={"target": [_("At least 1.")]})
    if due_date < microsite.start_date:
        raise DomainError(
            _("The due date cannot be before the microsite starts."),
            fields={"due_date": [_("On or after the start date.")]},
        )
    if Milestone.objects.filter(microsite=microsite, metric=metric, due_date=due_date).exists():
        raise DomainError(
            _("This microsite already has a milestone for this metric on that date."),
            code="duplicate",
            fields={"metric": [_("Already defined for that date.")]},
        )
    milestone = Milestone.objects.create(microsite=microsite, metric=metric, target=target, due_date=due_date)
    audit_record(
        actor=actor,
        action="milestone.add",
        target=microsite,
        details={"metric": metric, "target": target, "due_date": due_date.isoformat()},
        request=request,
    )
    return milestone


def milestone_template_apply(
    *, actor, microsites, metric: str, target: int, due_after_months: int, request=None
) -> int:
    """Add the same milestone (due N months after each one's start) to many microsites; returns how many were added.

    Microsites that already have it, or that the actor may not manage, are skipped.
    """
    added = 0
    for microsite in microsites:
        due = microsite.start_date + relativedelta(months=due_after_months)
        try:
            milestone_add(actor=actor, microsite=microsite, metric=metric, target=target, due_date=due, request=request)
            added += 1
        except DomainError:
            continue
    return added


def milestones_refresh(
    *, microsite: Microsite, now: datetime.datetime | None = None, values: dict[str, int] | None = None
) -> int:
    """Stamp `achieved_at` on milestones whose metric has reached the target; returns how many were stamped.

    Idempotent: the conditional update only touches milestones not yet stamped, so a retried task
    or two concurrent refreshes keep the first date.
    """
    now = now or timezone.now()
    stamped = 0
    pending = list(microsite.milestones.filter(achieved_at__isnull=True))
    if values is None and pending:
        values = microsite_metric_values([microsite], {m.metric for m in pending})[microsite.pk]
    for milestone in pending:
        if values[milestone.metric] >= milestone.target:
            stamped += Milestone.objects.filter(pk=milestone.pk, achieved_at__isnull=True).update(achieved_at=now)
    return stamped
