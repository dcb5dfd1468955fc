from celery import shared_task

from . import services


@shared_task(name="abha.purge_otp_transactions", ignore_result=True)
def purge_otp_transactions() -> int:
    """Beat-scheduled (config/celery.py): idempotent, a repeat finds nothing left to delete."""
    return services.otp_transactions_purge()
