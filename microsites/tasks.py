from celery import shared_task

from .models import Microsite
from .services import milestones_refresh


@shared_task(name="microsites.refresh_milestones")
def refresh_milestones() -> int:
    """Scheduled by beat: stamp the achievement date of milestones reached since the last run."""
    return sum(milestones_refresh(microsite=microsite) for microsite in Microsite.objects.all())
