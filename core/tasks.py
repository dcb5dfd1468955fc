from celery import shared_task

from .services import heartbeat_touch


@shared_task(name="core.heartbeat")
def heartbeat(name: str = "celery") -> None:
    """Scheduled by beat every minute; /healthz shows how long ago a worker ran it."""
    heartbeat_touch(name=name)
