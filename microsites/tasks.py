from celery import shared_task

from .models import Microsite, Milestone
from .selectors import microsite_metric_values
from .services import milestones_refresh


@shared_task(name="microsites.refresh_milestones")
def refresh_milestones() -> int:
    """Scheduled by beat: stamp the achievement date of milestones reached since the last run.

    The metrics of all microsites with a pending milestone are read at once (a fixed number of queries).
    """
    microsites = list(Microsite.objects.filter(milestones__achieved_at__isnull=True).distinct())
    metrics = set(
        Milestone.objects.filter(microsite__in=microsites, achieved_at__isnull=True).values_list("metric", flat=True)
    )
    values = microsite_metric_values(microsites, metrics)
    return sum(milestones_refresh(microsite=m, values=values[m.pk]) for m in microsites)
