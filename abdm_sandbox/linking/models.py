"""What the sandbox gateway keeps of M2: link tokens it issued, the care contexts linked to ABHA addresses (read by
the consent manager through services.py), the M2 calls it received (duplicate REQUEST-IDs are refused, as ABDM does),
the ABHA app's user-initiated linking flows and its profile shares."""

import uuid

from django.db import models
from django.utils import timezone


class LinkToken(models.Model):
    """A link token issued on m2_generate_link_token, bound to one ABHA address (and number) and one HIP of one
    bridge. Only its SHA-256 is kept."""

    token_sha256 = models.CharField(max_length=64, unique=True)
    bridge_id = models.CharField(max_length=100)
    hip_id = models.CharField(max_length=100)
    abha_address = models.CharField(max_length=64)
    abha_number = models.CharField(max_length=14, blank=True)
    request_id = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"link token for {self.abha_address} at {self.hip_id}"


class CareContext(models.Model):
    """A care context linked at an HIP to an ABHA address: by the HIP (HIP-initiated linking) or by the patient
    (user-initiated linking, after the HIP confirmed the OTP). A care context is the HIP's (patient reference,
    care-context reference) pair: linked once, whatever the number of calls."""

    class Source(models.TextChoices):
        HIP = "HIP"
        USER = "USER"

    hip_id = models.CharField(max_length=100)
    abha_address = models.CharField(max_length=64)
    abha_number = models.CharField(max_length=14, blank=True)
    patient_reference = models.CharField(max_length=255)
    patient_display = models.CharField(max_length=255, blank=True)
    reference_number = models.CharField(max_length=255)
    display = models.CharField(max_length=255, blank=True)
    hi_types = models.JSONField(default=list)
    source = models.CharField(max_length=4, choices=Source.choices, default=Source.HIP)
    request_id = models.CharField(max_length=100, blank=True)  # the call that linked it
    linked_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hip_id", "patient_reference", "reference_number"], name="sandbox_care_context_once"
            )
        ]
        indexes = [
            models.Index(fields=["abha_address", "hip_id"], name="sandbox_cc_by_address"),
            models.Index(fields=["abha_number", "hip_id"], name="sandbox_cc_by_number"),
        ]

    def __str__(self):
        return f"{self.hip_id}/{self.patient_reference}/{self.reference_number} -> {self.abha_address}"


class GatewayCall(models.Model):
    """An M2 call a bridge made (its REQUEST-ID per operation: a repeat is ABDM's "Duplicate ... request")."""

    operation = models.CharField(max_length=60)
    request_id = models.CharField(max_length=100)
    bridge_id = models.CharField(max_length=100)
    hip_id = models.CharField(max_length=100, blank=True)
    outcome = models.JSONField(default=dict, blank=True)  # the callback sent in answer, when there is one
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["operation", "request_id"], name="sandbox_m2_call_once")]

    def __str__(self):
        return f"{self.operation} {self.request_id}"


class UserLink(models.Model):
    """One user-initiated linking flow played by the sandbox's ABHA app: discover -> on-discover, link init ->
    on-init, link confirm -> on-confirm. Each leg's callback REQUEST-ID matches the HIP's answer to it."""

    class Status(models.TextChoices):
        DISCOVERING = "DISCOVERING"
        DISCOVERED = "DISCOVERED"
        INITIATING = "INITIATING"
        AWAITING_OTP = "AWAITING_OTP"
        CONFIRMING = "CONFIRMING"
        LINKED = "LINKED"
        FAILED = "FAILED"

    transaction_id = models.UUIDField(default=uuid.uuid4, unique=True)
    bridge_id = models.CharField(max_length=100)
    hip_id = models.CharField(max_length=100)
    abha_address = models.CharField(max_length=64)
    abha_number = models.CharField(max_length=14, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DISCOVERING)
    discover_request_id = models.UUIDField(unique=True, default=uuid.uuid4)
    discovered = models.JSONField(default=list, blank=True)  # on-discover's patient entries
    matched_by = models.JSONField(default=list, blank=True)
    init_request_id = models.UUIDField(unique=True, null=True, blank=True)
    requested = models.JSONField(default=list, blank=True)  # the entries sent in link init
    link_reference = models.CharField(max_length=100, blank=True)
    link_meta = models.JSONField(default=dict, blank=True)
    confirm_request_id = models.UUIDField(unique=True, null=True, blank=True)
    linked = models.JSONField(default=list, blank=True)  # on-confirm's patient entries
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"user link {self.transaction_id} ({self.status})"


class ProfileShare(models.Model):
    """A Scan & Share profile share played by the sandbox's ABHA app: the patient-share callback sent to the HIP's
    bridge (its REQUEST-ID) and the HIP's on-share answer (token number and expiry, or an error)."""

    class Status(models.TextChoices):
        SENT = "SENT"
        ANSWERED = "ANSWERED"
        FAILED = "FAILED"

    request_id = models.UUIDField(default=uuid.uuid4, unique=True)
    bridge_id = models.CharField(max_length=100)
    hip_id = models.CharField(max_length=100)
    counter_id = models.CharField(max_length=250)
    abha_address = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    delivery_status = models.IntegerField(null=True, blank=True)  # what the bridge answered the share callback
    token_number = models.CharField(max_length=50, blank=True)
    expiry = models.CharField(max_length=30, blank=True)
    answer = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"share {self.request_id} at {self.hip_id}/{self.counter_id}"
