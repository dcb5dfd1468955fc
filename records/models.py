"""Care contexts, versioned health records, consent requests and artefacts, break-the-glass grants.

Nothing here is ever hard-deleted: records get new versions, consents change status.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from abha.models import AbhaAccount
from core.models import BaseModel
from facilities.models import Facility

from .enums import (
    AccessMode,
    ArtefactStatus,
    ConsentStatus,
    FrequencyUnit,
    HipArtefactStatus,
    HipTransferItemStatus,
    HipTransferStatus,
    HiType,
    HiuArtefactStatus,
    HiuRequestStatus,
    HiuTransferStatus,
    LinkingChunkStatus,
    LinkingFileFormat,
    LinkingJobStatus,
    LinkingReviewStatus,
    LinkMatch,
    LinkStatus,
    Purpose,
)


class CareContext(BaseModel):
    """A facility's bundle of records for one visit or admission, linked to a patient's ABHA."""

    # No single-column indexes on the foreign keys where a composite index starts with them (the unique
    # facility + reference, the patient's visits): bulk linking inserts lakhs of rows, each index costs.
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="care_contexts", db_index=False)
    # Empty for an older record kept by demographics until the patient links it (patient-initiated linking).
    patient = models.ForeignKey(
        AbhaAccount, on_delete=models.PROTECT, related_name="care_contexts", null=True, blank=True, db_index=False
    )
    patient_name = models.CharField(max_length=200, blank=True)
    patient_mobile = models.CharField(max_length=10, blank=True)
    patient_gender = models.CharField(max_length=1, blank=True)
    patient_year_of_birth = models.PositiveSmallIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=64)
    display = models.CharField(max_length=200)
    date = models.DateField()
    # Who filed it (the audit log names them too). No per-row FK check: a linking job writes lakhs of rows by one
    # user, and users are never deleted (PROTECT keeps the ORM from it).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            # The facility's own reference names one visit; re-sending it adds to the same care context.
            models.UniqueConstraint(fields=["facility", "reference"], name="care_context_unique_reference"),
        ]
        indexes = [
            # A patient's visits, newest first (citizen pages, discovery).
            models.Index(fields=["patient", "-date"], name="care_context_patient_idx"),
            # Discovery: a facility's unlinked visits by the mobile the patient gave then.
            models.Index(
                fields=["facility", "patient_mobile"],
                condition=Q(patient__isnull=True),
                name="care_context_unlinked_idx",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.display}"


class HealthRecordQuerySet(models.QuerySet):
    def current(self):
        """The latest version of each record (amended versions stay, but are not served)."""
        return self.filter(is_current=True)


class HealthRecord(BaseModel):
    """One FHIR document bundle of one hiType in a care context, in one version.

    The natural key is facility + care context + `record_key` (the bundle's identifier, or its id):
    sending the same record again is a no-op, sending a changed one adds version n+1 and marks
    the old one not current. `facility`, `patient` and `record_date` repeat the care context's
    so a consent's records are one indexed query on this table.
    """

    care_context = models.ForeignKey(
        CareContext, on_delete=models.PROTECT, related_name="records", db_index=False
    )  # the natural key's unique index starts with it
    # Not indexed alone: records are found by care context (the natural key) or by patient (consent reads).
    # Copies of the care context's facility and patient, written from it in the same statement: the care context's
    # foreign keys guard them, and bulk linking does not pay a second check per row (db_constraint=False).
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="health_records", db_index=False, db_constraint=False
    )
    patient = models.ForeignKey(
        AbhaAccount,
        on_delete=models.PROTECT,
        related_name="health_records",
        null=True,
        blank=True,
        db_index=False,  # a patient's records are read current, on health_record_consent_idx (which leads with it)
        db_constraint=False,
    )
    hi_type = models.CharField(max_length=24, choices=HiType.choices)
    record_key = models.CharField(max_length=128)
    record_date = models.DateField()
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    # One version supersedes at most one other: a unique index on the non-null values only (most records are
    # first versions, and bulk linking should not pay for indexing their NULLs).
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by", db_index=False
    )
    title = models.CharField(max_length=200, blank=True)
    # NULL for a linking job's row sent without a bundle: its index document is built on read from the fields
    # above (records.linking.documents.record_bundle); read a record's bundle and summary through there.
    bundle = models.JSONField(null=True, blank=True)
    # fhir.summarize(bundle), kept so that reads render without parsing the bundle (NULL with the bundle).
    summary = models.JSONField(default=dict, null=True, blank=True)
    bundle_sha256 = models.CharField(max_length=64, blank=True)  # empty when the bundle is built on read
    created_by = models.ForeignKey(  # as CareContext.created_by: no per-row FK check
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    objects = HealthRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-record_date", "-id"]
        constraints = [
            # The natural key: a care context belongs to one facility, so (care context, record key) is facility +
            # care context + record key. Leading with the care context also serves "the records of a visit".
            models.UniqueConstraint(
                fields=["care_context", "record_key", "version"], name="health_record_unique_version"
            ),
            models.UniqueConstraint(
                fields=["care_context", "record_key"],
                condition=Q(is_current=True),
                name="health_record_one_current",
            ),
            models.UniqueConstraint(
                fields=["supersedes"], condition=Q(supersedes__isnull=False), name="health_record_supersedes_once"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="health_record_version_positive"),
            # A bundle is stored with its summary and hash, or neither is (an index document, built on read).
            models.CheckConstraint(
                condition=Q(bundle__isnull=False, summary__isnull=False)
                | Q(bundle__isnull=True, summary__isnull=True, bundle_sha256=""),
                name="health_record_bundle_or_index",
            ),
        ]
        indexes = [
            # records_for_artefact: one patient's current records at one facility, by date and type.
            models.Index(
                fields=["patient", "facility", "record_date"],
                condition=Q(is_current=True),
                name="health_record_consent_idx",
            ),
        ]

    def __str__(self):
        return f"{self.hi_type} {self.record_key} v{self.version}"


class ConsentRequestQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=ConsentStatus.REQUESTED)


class ConsentRequest(BaseModel):
    """A doctor at a facility (the information user) asks a patient for access to records."""

    patient = models.ForeignKey(AbhaAccount, on_delete=models.PROTECT, related_name="consent_requests")
    patient_address = models.CharField(max_length=64)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consent_requests")
    requester_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="consent_requests_made")
    # The doctor's professional registry ID when they have a verified one (shown to the patient).
    requester_hpr_id = models.CharField(max_length=14, blank=True)
    source_facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="consent_requests_received"
    )
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    hi_types = models.JSONField()
    date_from = models.DateField()
    date_to = models.DateField()
    data_erase_at = models.DateTimeField()
    access_mode = models.CharField(max_length=8, choices=AccessMode.choices, default=AccessMode.VIEW)
    # ABDM's frequency {unit, value, repeats}: the requester may read at most `repeats` times per
    # window of `value` × `unit`; repeats 0 means no limit (ABDM's own sample requests use 0).
    frequency_unit = models.CharField(max_length=8, choices=FrequencyUnit.choices, default=FrequencyUnit.HOUR)
    frequency_value = models.PositiveIntegerField(default=1)
    frequency_repeats = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.REQUESTED)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = ConsentRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(date_from__lte=F("date_to")), name="consent_request_date_range"),
            models.CheckConstraint(condition=Q(frequency_value__gt=0), name="consent_request_frequency_positive"),
        ]
        indexes = [
            # The citizen's inbox: their requests by status, newest first.
            models.Index(fields=["patient", "status", "-created_at"], name="consent_request_inbox_idx"),
            # The expiry task: pending requests past their answer-by time.
            models.Index(fields=["expires_at"], condition=Q(status="REQUESTED"), name="consent_request_expiry_idx"),
        ]

    def __str__(self):
        # No patient identifier: audit rows copy this label and keep it after the patient's ABHA is deleted.
        return f"{self.purpose} {self.status} {self.uuid}"

    @property
    def is_answerable(self) -> bool:
        return self.status == ConsentStatus.REQUESTED and self.expires_at > timezone.now()


class ConsentArtefactQuerySet(models.QuerySet):
    def active(self, now=None):
        """Granted and not past `data_erase_at`: the only artefacts that open records."""
        return self.filter(status=ArtefactStatus.GRANTED, data_erase_at__gt=now or timezone.now())


class ConsentArtefact(BaseModel):
    """What the patient granted for one source facility: hiTypes, date range, until when."""

    request = models.ForeignKey(ConsentRequest, on_delete=models.PROTECT, related_name="artefacts")
    patient = models.ForeignKey(AbhaAccount, on_delete=models.PROTECT, related_name="consent_artefacts")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requester_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="artefacts_held")
    source_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="artefacts_served")
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    hi_types = models.JSONField()
    date_from = models.DateField()
    date_to = models.DateField()
    data_erase_at = models.DateTimeField()
    access_mode = models.CharField(max_length=8, choices=AccessMode.choices, default=AccessMode.VIEW)
    frequency_unit = models.CharField(max_length=8, choices=FrequencyUnit.choices, default=FrequencyUnit.HOUR)
    frequency_value = models.PositiveIntegerField(default=1)
    frequency_repeats = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=ArtefactStatus.choices, default=ArtefactStatus.GRANTED)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ConsentArtefactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "source_facility"], name="artefact_one_per_source_facility"),
            models.CheckConstraint(condition=Q(date_from__lte=F("date_to")), name="artefact_date_range"),
        ]
        indexes = [
            # The expiry task: granted (or suspended) artefacts past data_erase_at.
            models.Index(
                fields=["data_erase_at"],
                condition=Q(status__in=["GRANTED", "SUSPENDED"]),
                name="artefact_expiry_idx",
            ),
            # The facility page: consents covering this facility's records.
            models.Index(fields=["source_facility", "status"], name="artefact_source_idx"),
        ]

    def __str__(self):
        return f"{self.source_facility_id} → {self.requester_facility_id} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status == ArtefactStatus.GRANTED and self.data_erase_at > timezone.now()

    @property
    def allows_copies(self) -> bool:
        """Only a consent granted for storing lets the bundle leave the portal; VIEW shows the rendered record."""
        return self.access_mode == AccessMode.STORE


class BreakGlassGrant(BaseModel):
    """Emergency access by a doctor without the patient's consent: short, with a reason, reviewed."""

    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="break_glass_grants")
    patient = models.ForeignKey(AbhaAccount, on_delete=models.PROTECT, related_name="break_glass_grants")
    reason = models.TextField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="btg_reason_required")]

    def __str__(self):
        return f"BTG {self.doctor_id} {self.patient_id} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()

    @property
    def needs_review(self) -> bool:
        """Every emergency access is flagged for review from the moment it is opened until a state official marks
        it (`btg_review` sets reviewed_by and reviewed_at)."""
        return self.reviewed_at is None


class Notification(BaseModel):
    """An in-app message to the requester about a consent change (rendered in the reader's language)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    consent_request = models.ForeignKey(ConsentRequest, on_delete=models.PROTECT, related_name="notifications")
    event = models.CharField(max_length=10)  # the new status: GRANTED, DENIED, REVOKED, EXPIRED
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="notification_user_idx")]

    def __str__(self):
        return f"{self.user_id} {self.event}"


class LinkRequest(BaseModel):
    """A citizen's claim to visits a facility holds by demographics: OTP first, then linked at once
    (strong match) or after the facility's review (weak match)."""

    patient = models.ForeignKey(AbhaAccount, on_delete=models.PROTECT, related_name="link_requests")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="link_requests")
    care_contexts = models.ManyToManyField(CareContext, related_name="link_requests")
    match = models.CharField(max_length=10, choices=LinkMatch.choices)
    status = models.CharField(max_length=14, choices=LinkStatus.choices, default=LinkStatus.OTP_SENT)
    otp_hash = models.CharField(max_length=64)
    otp_expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The facility's review list.
            models.Index(fields=["facility", "status"], name="link_request_review_idx"),
        ]

    def __str__(self):
        return f"{self.patient_id} @ {self.facility_id} {self.status}"


# --- Record-linking jobs (records/linking) -----------------------------------------------------


class LinkingJob(BaseModel):
    """One uploaded batch of records to link to ABHA, processed in chunks by Celery workers."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="linking_jobs")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to="linking/%Y/%m/", max_length=200)
    original_name = models.CharField(max_length=200)
    file_format = models.CharField(max_length=8, choices=LinkingFileFormat.choices)
    size_bytes = models.PositiveBigIntegerField(default=0)
    # Where the rows are read from: the upload itself, or for a ZIP the CSV taken out of it (byte ranges
    # of a compressed member cannot be read directly).
    rows_file = models.FileField(upload_to="linking/%Y/%m/", max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=LinkingJobStatus.choices, default=LinkingJobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    linked = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    needs_review = models.PositiveIntegerField(default=0)
    failed_rows = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["facility", "-created_at"], name="linking_job_facility_idx"),
            # The resume sweep: jobs that should be moving.
            models.Index(fields=["status"], condition=Q(status__in=["queued", "running"]), name="linking_job_open_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(processed__lte=F("total")), name="linking_job_processed_le_total"),
        ]

    def __str__(self):
        return f"{self.original_name} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in (LinkingJobStatus.QUEUED, LinkingJobStatus.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == LinkingJobStatus.DONE:
            return 100
        return int(100 * self.processed / self.total) if self.total else 0

    @property
    def rows_per_second(self) -> float:
        if not self.started_at or not self.processed:
            return 0.0
        end = self.finished_at or timezone.now()
        seconds = max((end - self.started_at).total_seconds(), 0.001)
        return round(self.processed / seconds, 1)

    @property
    def eta_seconds(self) -> int | None:
        rate = self.rows_per_second
        if not self.is_open or not rate or not self.total:
            return None
        return int((self.total - self.processed) / rate)


class LinkingChunk(models.Model):
    """A slice of a job's file (a byte range holding whole rows), committed all at once or not at all."""

    job = models.ForeignKey(LinkingJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_row = models.PositiveIntegerField()  # the file's row number of the first row (header is row 1)
    row_count = models.PositiveIntegerField()
    start_byte = models.PositiveBigIntegerField()
    end_byte = models.PositiveBigIntegerField()
    status = models.CharField(max_length=8, choices=LinkingChunkStatus.choices, default=LinkingChunkStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="linking_chunk_unique_index"),
            models.CheckConstraint(condition=Q(end_byte__gte=F("start_byte")), name="linking_chunk_byte_range"),
        ]
        indexes = [
            models.Index(fields=["job", "index"], condition=Q(status="pending"), name="linking_chunk_pending_idx"),
        ]

    def __str__(self):
        return f"{self.job_id}#{self.index} {self.status}"


class LinkingRowError(models.Model):
    """A row that was not linked: its row number, the column at fault and why (a code, worded when shown)."""

    job = models.ForeignKey(LinkingJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    field = models.CharField(max_length=40)
    code = models.CharField(max_length=40)
    # Extra words for the reason, e.g. a FHIR validation message (never patient data).
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["job", "row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"], name="linking_row_error_idx")]

    def __str__(self):
        return f"row {self.row_number} {self.field}: {self.code}"


class LinkingReview(BaseModel):
    """A row matched on demographics without certainty: its visit is kept unlinked until staff decide."""

    job = models.ForeignKey(LinkingJob, on_delete=models.CASCADE, related_name="reviews")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="linking_reviews")
    row_number = models.PositiveIntegerField()
    care_context = models.ForeignKey(CareContext, on_delete=models.PROTECT, related_name="linking_reviews")
    # ABHA account ids that could be this patient (same mobile; name, gender or year of birth differ).
    candidate_ids = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=LinkingReviewStatus.choices, default=LinkingReviewStatus.PENDING)
    linked_to = models.ForeignKey(AbhaAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["row_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="linking_review_one_per_row"),
        ]
        indexes = [models.Index(fields=["facility", "status"], name="linking_review_list_idx")]

    def __str__(self):
        return f"{self.job_id} row {self.row_number} {self.status}"


# --- The portal's facilities as HIPs on ABDM (records/hip_transfer.py) ------------------------------------------


class HipConsentArtefactQuerySet(models.QuerySet):
    def granted(self):
        return self.filter(status=HipArtefactStatus.GRANTED)


class HipConsentArtefact(BaseModel):
    """A consent artefact ABDM's consent manager notified to one of the portal's facilities as HIP
    (`/api/v3/consent/request/hip/notify`): every field the notification carries, and its status as ABDM last
    notified it. The artefact is ABDM's; the portal keeps it to check the health-information requests made under it.
    A revoke or expiry arrives as its own notification (status and consentId only) and updates the row."""

    consent_id = models.UUIDField(unique=True)
    status = models.CharField(max_length=8, choices=HipArtefactStatus.choices)
    # The facility ABDM named as HIP (`consentDetail.hip.id`, its HFR ID); null when no facility of ours has that ID.
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="hip_consent_artefacts"
    )
    hip_id = models.CharField(max_length=64)
    hip_name = models.CharField(max_length=255, blank=True)
    # `consentDetail.patient.id`: the patient's ABHA address; the account when the portal knows it.
    patient_address = models.CharField(max_length=255)
    patient = models.ForeignKey(
        AbhaAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="hip_consent_artefacts"
    )
    hiu_id = models.CharField(max_length=64)
    hiu_name = models.CharField(max_length=255, blank=True)
    hiu_type = models.CharField(max_length=64, blank=True)
    requester_name = models.CharField(max_length=255, blank=True)
    requester_identifier = models.JSONField(default=dict, blank=True)  # {value, type, system}
    consent_manager_id = models.CharField(max_length=64, blank=True)
    schema_version = models.CharField(max_length=16, blank=True)
    purpose_code = models.CharField(max_length=8, blank=True)
    purpose_text = models.CharField(max_length=64, blank=True)
    purpose_ref_uri = models.CharField(max_length=255, blank=True)
    hi_types = models.JSONField(default=list)
    care_contexts = models.JSONField(default=list)  # [{patientReference, careContextReference}]
    access_mode = models.CharField(max_length=8, blank=True)
    date_from = models.DateTimeField(null=True, blank=True)
    date_to = models.DateTimeField(null=True, blank=True)
    data_erase_at = models.DateTimeField(null=True, blank=True)
    frequency = models.JSONField(default=dict, blank=True)  # {unit, value, repeats}
    consent_created_at = models.DateTimeField(null=True, blank=True)  # `consentDetail.createdAt`
    signature = models.TextField(blank=True)
    grant_acknowledgement = models.BooleanField(default=False)
    # The REQUEST-ID of the notification that last changed the row (the on-notify echoes it).
    notified_request_id = models.CharField(max_length=100, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    objects = HipConsentArtefactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=HipArtefactStatus.values), name="hip_artefact_status_valid"),
        ]
        indexes = [
            # A facility's artefacts (its consents page, the audit), newest first.
            models.Index(fields=["facility", "-created_at"], name="hip_artefact_facility_idx"),
        ]

    def __str__(self):
        # No patient identifier: audit rows copy this label.
        return f"ABDM consent {self.consent_id} {self.status}"

    @property
    def is_expired(self) -> bool:
        return self.data_erase_at is not None and self.data_erase_at <= timezone.now()


class HipTransfer(BaseModel):
    """One health-information request ABDM sent to one of the portal's facilities
    (`/api/v3/hip/health-information/request`): what was asked, the answer (refused with ABDM's error, or
    acknowledged), the data push and the transfer notification. The requester's key material is kept (it is
    public); the portal's own key pair for the push is made in the task and never stored."""

    transaction_id = models.CharField(max_length=100, unique=True)
    request_id = models.CharField(max_length=100)  # the REQUEST-ID of ABDM's request (echoed by the on-request)
    consent_id = models.CharField(max_length=100)
    artefact = models.ForeignKey(
        HipConsentArtefact, on_delete=models.PROTECT, null=True, blank=True, related_name="transfers"
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="hip_transfers"
    )
    hip_id = models.CharField(max_length=64, blank=True)  # the X-HIP-ID header of the request
    date_from = models.DateTimeField(null=True, blank=True)
    date_to = models.DateTimeField(null=True, blank=True)
    data_push_url = models.CharField(max_length=500, blank=True)
    key_material = models.JSONField(default=dict, blank=True)  # the requester's {cryptoAlg, curve, dhPublicKey, nonce}
    status = models.CharField(max_length=20, choices=HipTransferStatus.choices)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=255, blank=True)
    push_attempts = models.PositiveSmallIntegerField(default=0)
    # While a worker pushes: when its hold ends; after a failed attempt: when the next one is due.
    next_push_at = models.DateTimeField(null=True, blank=True)
    last_push_error = models.CharField(max_length=300, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=HipTransferStatus.values), name="hip_transfer_status_valid"),
        ]
        indexes = [
            # An artefact's transfers (the consent's history; the frequency check).
            models.Index(fields=["artefact", "-created_at"], name="hip_transfer_artefact_idx"),
        ]

    def __str__(self):
        return f"ABDM transfer {self.transaction_id} {self.status}"


class HipTransferItem(models.Model):
    """One care context of a health-information request: the records it carried, sent (the HIU accepted the page
    holding it) or errored with the reason the transfer notification gives."""

    transfer = models.ForeignKey(HipTransfer, on_delete=models.CASCADE, related_name="items")
    care_context = models.ForeignKey(
        CareContext, on_delete=models.PROTECT, null=True, blank=True, related_name="hip_transfer_items"
    )
    care_context_reference = models.CharField(max_length=255)
    records = models.JSONField(default=list)  # uuids of the HealthRecord versions sent
    hi_types = models.JSONField(default=list)
    status = models.CharField(
        max_length=12, choices=HipTransferItemStatus.choices, default=HipTransferItemStatus.PENDING
    )
    reason = models.CharField(max_length=255, blank=True)
    checksum = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["transfer", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "care_context_reference"], name="hip_transfer_item_one_per_care_context"
            ),
            models.CheckConstraint(
                condition=Q(status__in=HipTransferItemStatus.values), name="hip_transfer_item_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.care_context_reference} {self.status}"


# --- The portal's doctors as HIU users on ABDM (records/hiu.py) --------------------------------------------------


class HiuConsentRequest(BaseModel):
    """A doctor's consent request sent to ABDM's consent manager (hiecm-m3 consent request init). The patient answers
    in their ABHA app; ABDM's notifications move `status`. `consent_request_id` is ABDM's ID (from on-init)."""

    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="hiu_consent_requests")
    patient_address = models.CharField(max_length=64)  # the ABHA address ABDM knows the patient by
    requester_name = models.CharField(max_length=200)
    requester_hpr_id = models.CharField(max_length=30, blank=True)
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    hi_types = models.JSONField()
    date_from = models.DateTimeField()
    date_to = models.DateTimeField()
    data_erase_at = models.DateTimeField()
    access_mode = models.CharField(max_length=8, choices=AccessMode.choices, default=AccessMode.VIEW)
    frequency_unit = models.CharField(max_length=8, choices=FrequencyUnit.choices, default=FrequencyUnit.HOUR)
    frequency_value = models.PositiveIntegerField(default=1)
    frequency_repeats = models.PositiveIntegerField(default=0)
    hip_id = models.CharField(max_length=64, blank=True)
    hip_name = models.CharField(max_length=200, blank=True)
    emergency_reason = models.TextField(blank=True)  # break-the-glass: why (purpose BTG)
    status = models.CharField(max_length=10, choices=HiuRequestStatus.choices, default=HiuRequestStatus.QUEUED)
    init_request_id = models.UUIDField(unique=True)  # the REQUEST-ID of the init (its outbox message)
    consent_request_id = models.UUIDField(null=True, blank=True, unique=True)  # ABDM's
    error = models.CharField(max_length=300, blank=True)
    reason = models.CharField(max_length=300, blank=True)  # ABDM's reason with a DENIED notification
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requester", "-created_at"], name="hiu_request_requester_idx")]

    def __str__(self):
        return f"HIU {self.purpose} {self.status} {self.uuid}"


class HiuArtefactQuerySet(models.QuerySet):
    def readable(self, now=None):
        """Granted, fetched and before dataEraseAt: the only artefacts whose received records may be read."""
        return self.filter(status=HiuArtefactStatus.GRANTED, data_erase_at__gt=now or timezone.now())


class HiuArtefact(BaseModel):
    """A consent artefact ABDM granted the doctor's facility, as fetched (on-fetch), with every field it carries."""

    consent_request = models.ForeignKey(HiuConsentRequest, on_delete=models.PROTECT, related_name="artefacts")
    artefact_id = models.UUIDField(unique=True)
    status = models.CharField(max_length=8, choices=HiuArtefactStatus.choices, default=HiuArtefactStatus.GRANTED)
    fetched_at = models.DateTimeField(null=True, blank=True)
    schema_version = models.CharField(max_length=10, blank=True)
    abdm_created_at = models.DateTimeField(null=True, blank=True)
    patient_address = models.CharField(max_length=64, blank=True)
    hip_id = models.CharField(max_length=64, blank=True)
    hip_name = models.CharField(max_length=200, blank=True)
    hiu_id = models.CharField(max_length=64, blank=True)
    consent_manager_id = models.CharField(max_length=30, blank=True)
    care_contexts = models.JSONField(default=list)
    purpose_code = models.CharField(max_length=8, blank=True)
    purpose_text = models.CharField(max_length=100, blank=True)
    purpose_ref_uri = models.CharField(max_length=255, blank=True)
    requester = models.JSONField(default=dict)
    hi_types = models.JSONField(default=list)
    access_mode = models.CharField(max_length=8, blank=True)
    date_from = models.DateTimeField(null=True, blank=True)
    date_to = models.DateTimeField(null=True, blank=True)
    # Until fetched: the request's; the fetched artefact's after (a patient may end it earlier when granting).
    data_erase_at = models.DateTimeField()
    frequency = models.JSONField(default=dict)
    signature = models.TextField(blank=True)
    detail = models.JSONField(default=dict)  # the consentDetail exactly as ABDM sent it
    revoked_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = HiuArtefactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["data_erase_at"], condition=Q(erased_at__isnull=True), name="hiu_artefact_erase_idx")
        ]

    def __str__(self):
        return f"HIU artefact {self.artefact_id} {self.status}"

    @property
    def is_readable(self) -> bool:
        return self.status == HiuArtefactStatus.GRANTED and self.data_erase_at > timezone.now()

    @property
    def allows_copies(self) -> bool:
        return self.access_mode == AccessMode.STORE


class HiuTransfer(BaseModel):
    """One health-information request for an artefact, with the key pair made for it: the private key sealed at rest
    (abha.tokens' Fernet) and erased once the data arrived or the request ended."""

    artefact = models.ForeignKey(HiuArtefact, on_delete=models.PROTECT, related_name="transfers")
    request_id = models.UUIDField(unique=True)  # the REQUEST-ID of the health-information request
    transaction_id = models.UUIDField(null=True, blank=True, unique=True)  # ABDM's, from on-request
    status = models.CharField(max_length=10, choices=HiuTransferStatus.choices, default=HiuTransferStatus.QUEUED)
    public_key = models.TextField()
    nonce = models.CharField(max_length=64)
    sealed_private_key = models.TextField(blank=True)
    key_erased_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    pages = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"HIU transfer {self.transaction_id or self.request_id} {self.status}"


class HiuRecord(BaseModel):
    """One care context's FHIR bundle received, decrypted and validated; `bundle` emptied when erased."""

    transfer = models.ForeignKey(HiuTransfer, on_delete=models.PROTECT, related_name="records")
    artefact = models.ForeignKey(HiuArtefact, on_delete=models.PROTECT, related_name="records")
    care_context_reference = models.CharField(max_length=255)
    hi_type = models.CharField(max_length=24, choices=HiType.choices, blank=True)
    title = models.CharField(max_length=200, blank=True)
    record_date = models.DateField(null=True, blank=True)
    bundle = models.JSONField(null=True, blank=True)
    summary = models.JSONField(default=dict)
    bundle_sha256 = models.CharField(max_length=64, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"HIU record {self.care_context_reference}"
