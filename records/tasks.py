from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from . import abdm_linking
from .linking.processing import job_prepare, job_work, jobs_to_resume
from .services import consents_expire


@shared_task(name="records.expire_consents")
def expire_consents() -> dict:
    """Beat task: flips unanswered requests and artefacts past data_erase_at to EXPIRED.

    Reads never depend on it (every read checks data_erase_at itself); it keeps statuses and
    the requester's notifications truthful. Idempotent: conditional updates on the old status.
    """
    from . import hiu

    return {**consents_expire(), "hiu_erased": hiu.erase_due()}


@shared_task(name="records.prepare_linking_job")
def prepare_linking_job(job_id: int) -> None:
    """Cut the upload into chunks, then start LINKING_PARALLEL workers on it (a repeat does nothing)."""
    job = job_prepare(job_id=job_id)
    if job is not None and job.status == "running":
        parallel = min(settings.LINKING_PARALLEL, job.chunks.count())
        for _ in range(parallel):
            work_linking_job.delay(job_id)


@shared_task(name="records.work_linking_job")
def work_linking_job(job_id: int) -> int:
    """Claim and link chunks of one job until none is left; any number of these may run at once."""
    return job_work(job_id=job_id)


@shared_task(name="records.resume_linking_jobs")
def resume_linking_jobs() -> int:
    """Beat task (and once at worker start): restart jobs whose worker died, by queueing their step again."""
    todo = jobs_to_resume()
    for job_id, step in todo:
        (prepare_linking_job if step == "prepare" else work_linking_job).delay(job_id)
    abdm_links_sweep.delay()  # on the same beat: care contexts waiting to be linked on ABDM
    return len(todo)


@shared_task(name="records.abdm_links_dispatch")
def abdm_links_dispatch(pairs: list) -> int:
    """Send the pending care contexts of these [facility id, patient id] pairs to ABDM (a link token, then link
    calls of up to 20): queued after a linking chunk commits; the outbox's workers send the calls."""
    return abdm_linking.dispatch_many(pairs)


@shared_task(name="records.abdm_links_sweep")
def abdm_links_sweep() -> int:
    """Every 30 s (with resume_linking_jobs): send again what ABDM never answered, dispatch what nobody moves."""
    return abdm_linking.links_sweep()


@worker_ready.connect
def _resume_after_restart(sender=None, **kwargs):
    # A worker restarted after a crash picks up the jobs it (or another) left, without waiting for beat.
    resume_linking_jobs.delay()
