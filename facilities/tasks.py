from celery import shared_task

from .services.bulk import bulk_upload_process


@shared_task(name="facilities.process_bulk_upload")
def process_bulk_upload(upload_id: int) -> None:
    """Thin: the service claims the job once, so a redelivered message does nothing."""
    bulk_upload_process(upload_id=upload_id)
