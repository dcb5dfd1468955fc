"""Reads for record-linking jobs: the error report and the review list with its candidates."""

import csv
import io
from collections.abc import Iterator

from django.utils.translation import gettext as _

from abha.identifiers import abha_number_display
from abha.models import AbhaAccount
from core import access

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
    yield flush()


def jobs_for(user, *, limit: int = 50):
    return access.scope(user, LinkingJob.objects.select_related("facility", "uploaded_by")).order_by("-created_at")[
        :limit
    ]


def with_candidates(reviews: list[LinkingReview]) -> list[LinkingReview]:
    """Attach `candidates` (name, gender, year, masked number) to each review: one query for all."""
    ids = {pk for review in reviews for pk in review.candidate_ids}
    accounts = {account.pk: account for account in AbhaAccount.objects.filter(pk__in=ids)}
    for review in reviews:
        review.candidates = []
        for pk in review.candidate_ids:
            account = accounts.get(pk)
            if account is None:
                continue
            account.name = account.full_name
            account.abha_number_masked = "XX-XXXX-XXXX-" + abha_number_display(account.abha_number)[-4:]
            review.candidates.append(account)
    return reviews


def reviews_for(user, *, status: str = "pending", job: LinkingJob | None = None, limit: int = 200):
    reviews = access.scope(user, LinkingReview.objects.select_related("job", "care_context", "facility"))
    if status in ("pending", "linked", "rejected"):
        reviews = reviews.filter(status=status)
    if job is not None:
        reviews = reviews.filter(job=job)
    return with_candidates(list(reviews.order_by("job__created_at", "row_number")[:limit]))
