from celery import shared_task

from .services import consents_expire


@shared_task(name="records.expire_consents")
def expire_consents() -> dict:
    """Beat task: flips unanswered requests and artefacts past data_erase_at to EXPIRED.

    Reads never depend on it (every read checks data_erase_at itself); it keeps statuses and
    the requester's notifications truthful. Idempotent: conditional updates on the old status.
    """
    return consents_expire()
