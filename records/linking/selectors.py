"""Reads for record-linking jobs: the error report and the review list with its candidates."""

import csv
import hmac
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from abha.identifiers import abha_number_display
from abha.models import AbhaAccount
from core import access
from core.exceptions import NotFound

from ..abdm_linking import job_abdm_failures
from ..models import LinkingJob, LinkingReview, LinkingRowError
from .rows import reason_text

REPORT_BATCH = 5000


def error_report_lines(job: LinkingJob) -> Iterator[str]:
    """The error report as CSV text, row by row (streamed: a big job may have lakhs of bad rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([_("row"), _("column"), _("reason")])
    yield "\ufeff" + flush()  # the BOM makes spreadsheet programs read UTF-8 (Gujarati, Hindi) correctly
    errors = (
        LinkingRowError.objects.filter(job=job)
        .order_by("row_number", "id")
        .values_list("row_number", "field", "code", "detail")
    )
    for number, column, code, detail in errors.iterator(chunk_size=REPORT_BATCH):
        writer.writerow([number, column, reason_text(code, detail)])
        if buffer.tell() > 64 * 1024:
            yield flush()
    # Rows linked here that ABDM refused to link (the second progress line's failures), after the local errors.
    for number, code, message in job_abdm_failures(job).iterator(chunk_size=REPORT_BATCH):
        reason = _("Not linked on ABDM: %(reason)s") % {"reason": f"{code} {message}".strip()}
        writer.writerow([number or "", "abdm", reason])
        if buffer.tell() > 64 * 1024:
            yield flush()
    yield flush()


def jobs_for(user, *, limit: int = 50):
    return access.scope(user, LinkingJob.objects.select_related("facility", "uploaded_by")).order_by("-created_at")[
        :limit
    ]


@dataclass(frozen=True)
class Candidate:
    """What a review shows of a possible patient: a key for this review only and the ABHA's masked number.

    Never the ABHA holder's name, gender or year of birth: those would turn a mobile number typed by staff into a
    person. The row's own values (what staff entered) are shown beside it instead.
    """

    key: uuid.UUID
    abha_number_masked: str


def candidate_key(review: LinkingReview, account_id: int) -> uuid.UUID:
    # Keyed per review so the same person has unrelated keys in two reviews (no linking rows across files), and
    # the account's own public UUID never reaches the facility.
    digest = hmac.new(settings.SECRET_KEY.encode(), f"linking-candidate:{review.uuid}:{account_id}".encode(), "sha256")
    return uuid.UUID(bytes=digest.digest()[:16], version=4)


def candidate_account_id(user, review_uuid, key) -> int | None:
    """The candidate account `key` names in a review the user may see (None: not one of its candidates).

    NotFound when the review is not the user's to see, as review_decide would answer. One query.
    """
    review = access.scope(user, LinkingReview.objects.only("uuid", "candidate_ids")).filter(uuid=review_uuid).first()
    if review is None:
        raise NotFound(_("Not found."))
    return next((pk for pk in review.candidate_ids if str(candidate_key(review, pk)) == str(key)), None)


def with_candidates(reviews: list[LinkingReview]) -> list[LinkingReview]:
    """Attach `candidates` (Candidate: a key and the masked ABHA number) to each review: one query for all."""
    ids = {pk for review in reviews for pk in review.candidate_ids}
    numbers = dict(AbhaAccount.objects.filter(pk__in=ids).values_list("pk", "abha_number"))
    for review in reviews:
        review.candidates = [
            Candidate(candidate_key(review, pk), "XX-XXXX-XXXX-" + abha_number_display(numbers[pk])[-4:])
            for pk in review.candidate_ids
            if pk in numbers
        ]
    return reviews


def reviews_for(user, *, status: str = "pending", job: LinkingJob | None = None, limit: int = 200):
    reviews = access.scope(user, LinkingReview.objects.select_related("job", "care_context", "facility"))
    if status in ("pending", "linked", "rejected"):
        reviews = reviews.filter(status=status)
    if job is not None:
        reviews = reviews.filter(job=job)
    return with_candidates(list(reviews.order_by("job__created_at", "row_number")[:limit]))
