"""Writes for record-linking jobs: upload, cancel, and the facility's review of uncertain matches."""

import contextlib
import secrets
import uuid

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from abha.models import AbhaAccount
from core import access
from core.exceptions import Conflict, DomainError, NotAllowed, NotFound
from core.outage import enqueue_on_commit
from core.services import audit_record
from facilities.enums import FacilityStatus
from facilities.models import Facility

from ..abdm_linking import links_add
from ..enums import LinkingJobStatus, LinkingReviewStatus
from ..models import LinkingJob, LinkingReview
from ..services.link_requests import visits_link
from . import files


def may_upload_for(actor, facility: Facility) -> bool:
    """Staff of the facility, or a state official for any facility."""
    return access.can(actor, "act_for", facility) or access.is_state_official(actor) or actor.is_superuser


def facility_by_key(key: str) -> Facility | None:
    """A facility by its facility ID (IN...) or its UUID."""
    key = str(key or "").strip()
    if not key:
        return None
    query = Q(facility_id=key.upper())
    with contextlib.suppress(ValueError):
        query |= Q(uuid=uuid.UUID(key))
    return Facility.objects.filter(query).select_related("district").first()


@transaction.atomic
def job_create(*, actor, facility: Facility, uploaded_file, request=None) -> LinkingJob:
    """Check the file (type, size, encoding, columns), store it under MEDIA_ROOT, queue the job."""
    if facility is None:
        raise DomainError(_("Choose a facility."), fields={"facility": [_("Unknown facility.")]})
    if not may_upload_for(actor, facility):
        raise NotAllowed(_("Only the facility's staff or a state official can upload its records."))
    if facility.status != FacilityStatus.VERIFIED:
        message = _("Only a verified facility can link records.")
        raise Conflict(message, code="facility_not_verified", fields={"facility": [message]})
    name = (getattr(uploaded_file, "name", "") or "upload.csv").replace("\\", "/").rsplit("/", 1)[-1]
    file_format, _header = files.check_upload(uploaded_file, name)
    job = LinkingJob(
        facility=facility,
        uploaded_by=actor,
        original_name=name[:200],
        file_format=file_format,
        size_bytes=uploaded_file.size,
    )
    # A random stored name: the uploader's file name never becomes a path.
    job.file.save(f"{secrets.token_hex(12)}.{file_format}", uploaded_file, save=False)
    job.save()
    audit_record(
        actor=actor,
        action="records.linking_upload",
        target=job,
        details={"facility": facility.facility_id, "file": name[:200], "bytes": uploaded_file.size},
        request=request,
    )
    from ..tasks import prepare_linking_job  # tasks import services: imported here to keep layers one-way

    # The upload stands even when the broker is down: the resume sweep queues jobs left QUEUED.
    enqueue_on_commit(prepare_linking_job, job.pk)
    return job


def job_for(actor, job_uuid) -> LinkingJob:
    job = LinkingJob.objects.select_related("facility").filter(uuid=job_uuid).first()
    if job is None or not access.can(actor, "view", job):
        raise NotFound(_("Not found."))
    return job


@transaction.atomic
def job_cancel(*, actor, job_uuid, request=None) -> LinkingJob:
    """Stop a queued or running job between chunks; what is linked stays linked."""
    job = job_for(actor, job_uuid)
    if not may_upload_for(actor, job.facility):
        raise NotAllowed(_("Only the facility's staff or a state official can cancel this job."))
    updated = LinkingJob.objects.filter(
        pk=job.pk, status__in=[LinkingJobStatus.QUEUED, LinkingJobStatus.RUNNING]
    ).update(status=LinkingJobStatus.CANCELLED, finished_at=timezone.now(), cancelled_by=actor)
    if not updated:
        raise Conflict(_("This job has already finished."), code="job_finished")
    job.refresh_from_db()
    audit_record(
        actor=actor, action="records.linking_cancel", target=job, details={"processed": job.processed}, request=request
    )
    return job


@transaction.atomic
def review_decide(*, actor, review_uuid, account_id: int | None, request=None) -> LinkingReview:
    """Link the row's visit to the chosen candidate (`account_id`), or reject the match (None).

    A rejected visit stays at the facility unlinked, where the patient can still find and claim it.
    """
    review = (
        LinkingReview.objects.select_for_update(of=("self",))
        .select_related("facility", "care_context")
        .filter(uuid=review_uuid)
        .first()
    )
    if review is None or not access.can(actor, "view", review):
        raise NotFound(_("Not found."))
    if not may_upload_for(actor, review.facility):
        raise NotAllowed(_("Only the facility's staff review matches."))
    if review.status != LinkingReviewStatus.PENDING:
        raise Conflict(_("This row has already been reviewed."), code="already_reviewed")
    if account_id is not None:
        if account_id not in review.candidate_ids:
            message = _("Choose one of the suggested patients.")
            raise DomainError(message, fields={"account": [message]})
        account = AbhaAccount.objects.active().filter(pk=account_id).first()
        if account is None:
            raise Conflict(_("This ABHA is no longer active."), code="abha_inactive")
        visits_link(care_context_ids=[review.care_context_id], account=account, facility=review.facility)
        links_add(
            care_context_ids=[review.care_context_id],
            job=review.job,
            row_numbers={review.care_context_id: review.row_number},
        )
        review.status, review.linked_to = LinkingReviewStatus.LINKED, account
    else:
        review.status = LinkingReviewStatus.REJECTED
    review.decided_by, review.decided_at = actor, timezone.now()
    review.save(update_fields=["status", "linked_to", "decided_by", "decided_at", "updated_at"])
    audit_record(
        actor=actor,
        action=f"records.linking_review_{review.status}",
        target=review,
        details={"job": str(review.job.uuid), "row": review.row_number},
        request=request,
    )
    return review
