"""The consent manager's state: consent requests, their artefacts (one per HIP), health-information requests
(data-flow transactions), the citizen's app sign-ins, and the built-in HIU's fetches."""

import uuid

from django.db import models


class RequestStatus(models.TextChoices):
    REQUESTED = "REQUESTED"
    GRANTED = "GRANTED"
    DENIED = "DENIED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"  # every artefact of a granted request revoked


class ArtefactStatus(models.TextChoices):
    GRANTED = "GRANTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class ConsentRequest(models.Model):
    """A consent request an HIU made (`consent` of /api/hiecm/consent/v3/request/init), and the answer."""

    consent_request_id = models.UUIDField(default=uuid.uuid4, unique=True)
    hiu_bridge = models.CharField(max_length=100, blank=True)  # blank: the sandbox's built-in HIU
    hiu_id = models.CharField(max_length=100)
    hiu_name = models.CharField(max_length=300, blank=True)
    patient = models.CharField(max_length=100)  # ABHA address, lower case
    purpose_code = models.CharField(max_length=10)
    purpose_text = models.CharField(max_length=60)
    purpose_ref_uri = models.CharField(max_length=255, blank=True)
    hip_id = models.CharField(max_length=100, blank=True)
    hip_name = models.CharField(max_length=300, blank=True)
    care_contexts = models.JSONField(default=list, blank=True)  # [{patientReference, careContextReference}]
    requester = models.JSONField(default=dict)
    hi_types = models.JSONField(default=list)
    access_mode = models.CharField(max_length=10)
    date_from = models.DateTimeField()
    date_to = models.DateTimeField()
    data_erase_at = models.DateTimeField()
    frequency = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.REQUESTED)
    reason = models.CharField(max_length=300, blank=True)
    init_request_id = models.CharField(max_length=100, blank=True)
    hiu_acknowledgements = models.JSONField(default=list, blank=True)  # the HIU's on-notify acknowledgements
    expires_at = models.DateTimeField()  # an unanswered request expires then
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # the citizen's app: their requests, newest first
            models.Index(fields=["patient", "-created_at"], name="consent_request_by_patient"),
            # the expiry sweep: requests still waiting
            models.Index(fields=["status", "expires_at"], name="consent_request_due"),
        ]

    def __str__(self):
        return f"{self.consent_request_id} ({self.status})"


class ConsentArtefact(models.Model):
    """What the citizen granted, for one HIP: its consentDetail as sent (signed) to the HIP and the HIU."""

    artefact_id = models.UUIDField(default=uuid.uuid4, unique=True)
    consent_request = models.ForeignKey(ConsentRequest, on_delete=models.PROTECT, related_name="artefacts")
    hip_id = models.CharField(max_length=100)
    hip_name = models.CharField(max_length=300, blank=True)
    care_contexts = models.JSONField(default=list)  # [{patientReference, careContextReference}]
    hi_types = models.JSONField(default=list)
    date_from = models.DateTimeField()
    date_to = models.DateTimeField()
    data_erase_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ArtefactStatus.choices, default=ArtefactStatus.GRANTED)
    signature = models.TextField(blank=True)
    hip_acknowledgement = models.CharField(max_length=20, blank=True)  # the HIP's on-notify: OK or ERROR
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # the expiry sweep: granted artefacts past dataEraseAt
        indexes = [models.Index(fields=["status", "data_erase_at"], name="consent_artefact_due")]

    def __str__(self):
        return f"{self.artefact_id} for {self.hip_id} ({self.status})"


class HealthInformationRequest(models.Model):
    """One data-flow transaction: an HIU's health-information request under an artefact, relayed to the HIP."""

    transaction_id = models.UUIDField(default=uuid.uuid4, unique=True)
    artefact = models.ForeignKey(ConsentArtefact, on_delete=models.PROTECT, related_name="transfers")
    hiu_bridge = models.CharField(max_length=100, blank=True)  # blank: the built-in HIU
    hiu_id = models.CharField(max_length=100)
    request_id = models.CharField(max_length=100)  # the HIU's REQUEST-ID
    hip_request_id = models.CharField(max_length=100, blank=True)  # REQUEST-ID of the callback to the HIP
    date_from = models.DateTimeField()
    date_to = models.DateTimeField()
    data_push_url = models.CharField(max_length=500)
    key_material = models.JSONField(default=dict)
    # REQUESTED -> ACKNOWLEDGED (HIP's on-request) -> TRANSFERRED / FAILED (HIP's notify); ERRORED when refused.
    status = models.CharField(max_length=20, default="REQUESTED")
    hip_session_status = models.CharField(max_length=20, blank=True)
    hiu_session_status = models.CharField(max_length=20, blank=True)
    notifications = models.JSONField(default=list, blank=True)  # the notify bodies received, oldest first
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.transaction_id} ({self.status})"


class CitizenLogin(models.Model):
    """A sign-in to the sandbox's ABHA app by ABHA address and an OTP to the account's mobile (kept hashed)."""

    txn_id = models.UUIDField(default=uuid.uuid4, unique=True)
    abha_address = models.CharField(max_length=100)
    otp_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"sign-in {self.txn_id}"


class CitizenSession(models.Model):
    """A signed-in citizen of the sandbox's ABHA app: the token's hash and whose it is."""

    token_hash = models.CharField(max_length=64, unique=True)
    abha_address = models.CharField(max_length=100)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"app session of {self.abha_address}"


class HiuFetch(models.Model):
    """The built-in HIU's pull of one artefact's data: its key material and what arrived, per care context."""

    transfer = models.OneToOneField(HealthInformationRequest, on_delete=models.PROTECT, related_name="hiu_fetch")
    private_key = models.TextField()  # decimal; the sandbox's own throwaway key
    public_key = models.TextField()
    nonce = models.CharField(max_length=60)
    status = models.CharField(max_length=20, default="REQUESTED")  # REQUESTED, RECEIVED, FAILED
    results = models.JSONField(default=list, blank=True)  # [{careContextReference, status, problems, ...}]
    pushes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"HIU fetch {self.transfer_id} ({self.status})"
