from celery import shared_task

from .services.bulk import bulk_upload_process, bulk_upload_requeue


@shared_task(name="facilities.process_bulk_upload", bind=True)
def process_bulk_upload(self, upload_id: int) -> None:
    """Thin: the service claims the job once; a message redelivered after its worker died may resume it."""
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    bulk_upload_process(upload_id=upload_id, redelivered=redelivered)


@shared_task(name="facilities.requeue_bulk_uploads")
def requeue_bulk_uploads() -> int:
    """Scheduled: re-sends jobs whose first message was lost while the broker was down."""
    return bulk_upload_requeue()
