import logging

from celery import shared_task

from .services import heartbeat_touch
from .sms import SMS_RETRY_DELAY, SmsDeliveryError, mask_mobile, send_sms, task_kwargsrepr

logger = logging.getLogger(__name__)


@shared_task(name="core.heartbeat")
def heartbeat(name: str = "celery") -> None:
    """Scheduled by beat every minute; /healthz shows how long ago a worker ran it."""
    heartbeat_touch(name=name)


@shared_task(name="core.sms_send", bind=True, max_retries=2)
def sms_send(self, *, to: str, text: str) -> None:
    """Sends an SMS whose delivery after a commit failed (core.sms.send_on_commit queues it).

    A gateway error (SmsDeliveryError) is tried again after 10 s, then 20 s; after that the message is dropped
    with a warning. Other errors are bugs and fail the task. The text is never logged, the number only masked.
    """
    try:
        send_sms(to=to, text=text)
    except SmsDeliveryError as error:
        if self.request.retries >= self.max_retries:
            logger.warning("SMS to %s dropped after %s tries: %s", mask_mobile(to), self.request.retries + 2, error)
            return
        countdown = SMS_RETRY_DELAY * 2 ** (self.request.retries + 1)
        raise self.retry(countdown=countdown, kwargsrepr=task_kwargsrepr(to)) from error
