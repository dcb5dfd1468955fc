"""What the portal keeps of linking care contexts on ABDM (records/abdm_linking.py): one row per care context to link,
and the link token of each patient at each facility (HIP).

Loaded with the records app's models (records/models.py imports this module), so migrations live in records.
"""

import uuid

from django.db import models
from django.db.models import Q

from abha.models import AbhaAccount
from facilities.models import Facility


class AbdmLinkStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a link token"
    SENT = "sent", "Sent to ABDM"
    LINKED = "linked", "Linked on ABDM"
    FAILED = "failed", "Failed"


class AbdmCareContextLink(models.Model):
    """One care context to link to its patient's ABHA on ABDM. Unique per care context: a care context is linked
    on ABDM once, whichever path (records API, Scan & Share visit, linking job, review, citizen's claim) linked it
    locally. `batch` is the REQUEST-ID of the m2_hip_link_care_context call that carries it (up to 20 per call)."""

    care_context = models.OneToOneField(
        "records.CareContext", on_delete=models.PROTECT, related_name="abdm_link", primary_key=True
    )
    # Copies of the care context's facility and patient (for the dispatch index), written from it: its foreign keys
    # guard them, and a 2-lakh-row job does not pay two more checks per row (db_constraint=False).
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    patient = models.ForeignKey(
        AbhaAccount, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    job = models.ForeignKey(  # the job that noted it; jobs are never deleted: no per-row FK check either
        "records.LinkingJob",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    row_number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=AbdmLinkStatus.choices, default=AbdmLinkStatus.PENDING)
    batch = models.UUIDField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # link calls that carried it
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    linked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=AbdmLinkStatus.values), name="abdm_link_status_valid"),
        ]
        indexes = [
            # Dispatch: a patient's care contexts at a facility waiting for their token.
            models.Index(fields=["facility", "patient"], condition=Q(status="pending"), name="abdm_link_pending_idx"),
            # The outcome of a link call: its care contexts by the call's REQUEST-ID.
            models.Index(fields=["batch"], condition=Q(batch__isnull=False), name="abdm_link_batch_idx"),
            # A job's second progress line and its ABDM failures by row.
            models.Index(fields=["job", "status"], condition=Q(job__isnull=False), name="abdm_link_job_idx"),
        ]

    def __str__(self):
        return f"{self.care_context_id} {self.status}"


class AbdmLinkToken(models.Model):
    """The link token of one patient at one HIP: requested once (m2_generate_link_token answers on a callback),
    used for every link call while valid, requested again when it has expired or ABDM refused it."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(AbhaAccount, on_delete=models.PROTECT, related_name="+", db_index=False)
    token = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The REQUEST-ID of the generate-token call still waiting for its callback (None: none outstanding).
    requested = models.UUIDField(null=True, blank=True, unique=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)  # refusals in a row; reset by a token
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["facility", "patient"], name="abdm_link_token_one_per_patient_hip"),
        ]

    def __str__(self):
        return f"{self.facility_id}/{self.patient_id}"


class AbdmDiscovery(models.Model):
    """A discovery from a citizen's ABHA app answered with care contexts (user-initiated linking), then its link
    init (an OTP sent to the patient) and confirm. Only the facility's reference numbers are kept."""

    transaction_id = models.CharField(max_length=100, unique=True)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(AbhaAccount, on_delete=models.PROTECT, related_name="+", db_index=False)
    abha_address = models.CharField(max_length=100)
    care_context_ids = models.JSONField(default=list)  # what discovery offered
    link_reference = models.UUIDField(default=uuid.uuid4, unique=True)
    chosen_ids = models.JSONField(default=list)  # what link init asked for
    otp_hash = models.CharField(max_length=64, blank=True)
    otp_expires_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.transaction_id
