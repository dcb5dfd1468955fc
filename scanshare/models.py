from django.conf import settings
from django.db import models
from django.db.models import Q

from abha.models import AbhaAccount
from core.models import BaseModel
from facilities.models import Counter, Facility

from .enums import OPEN_TOKEN_STATES, ShareSource, TokenStatus


class ScanSequence(models.Model):
    """The last token number handed out at one counter on one local day (Asia/Kolkata).

    Only `scanshare_share_issue`, the SQL function of migration scanshare 0002 that `services.token_issue` calls,
    writes it, with one atomic upsert (`... ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last`) in the
    token's own transaction: the row lock serialises a counter's shares across processes, so numbers are unique
    and gap-free.
    """

    counter = models.ForeignKey(Counter, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["counter", "day"], name="scan_sequence_unique_counter_day")]

    def __str__(self):
        return f"{self.counter_id} {self.day}: {self.last}"


class ScanTokenQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_TOKEN_STATES)


class ScanToken(BaseModel):
    """An OPD token issued when a patient shares their ABHA profile at a counter (Scan & Share).

    From the portal's /scan/ page (`source` portal) the patient is the signed-in citizen's account. From the ABHA app
    through ABDM (`source` abdm: the gateway's patient-share callback) the profile is what ABDM shared, `abha_address`
    the sharer's address, and `patient` the portal's copy of that ABHA (made at the share when ABDM gave an ABHA
    number the portal did not know); an address-only ABHA (ABDM gives no number) has none, and its repeat shares
    are recognised by the address.
    """

    # No single-column index on the three keys below: each leads one of the composite indexes in Meta, and every
    # index is one more write per token at the morning rush.
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="scan_tokens", db_index=False)
    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, related_name="tokens", db_index=False)
    day = models.DateField()
    number = models.PositiveIntegerField()
    patient = models.ForeignKey(
        AbhaAccount, on_delete=models.PROTECT, related_name="scan_tokens", db_index=False, null=True, blank=True
    )
    profile = models.JSONField(default=dict)
    source = models.CharField(max_length=10, choices=ShareSource.choices, default=ShareSource.PORTAL)
    abha_address = models.CharField(max_length=100, blank=True, default="")  # ABDM shares: the sharer's, lower case
    status = models.CharField(max_length=10, choices=TokenStatus.choices, default=TokenStatus.WAITING)
    issued_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    called_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ScanTokenQuerySet.as_manager()

    class Meta:
        ordering = ["day", "counter", "number"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "counter", "day", "number"], name="scan_token_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="scan_token_number_positive"),
        ]
        indexes = [
            # Repeat-share check: the patient's open token at this counter.
            models.Index(fields=["patient", "counter", "-issued_at"], name="scan_token_patient_idx"),
            # The same for an ABDM share by an address-only ABHA (no portal account): by the ABHA address.
            models.Index(
                fields=["abha_address", "counter", "-issued_at"],
                name="scan_token_address_idx",
                condition=~Q(abha_address=""),
            ),
            # The counter queue: today's tokens of a counter by number.
            models.Index(fields=["counter", "day", "status"], name="scan_token_queue_idx"),
        ]

    def __str__(self):
        return f"{self.counter.code} #{self.number} ({self.day})"


class DisplayKey(BaseModel):
    """The secret in a waiting-hall TV's address (/display/<key>/): the screen shows that counter's tokens with no
    staff session on it. Only the key's SHA-256 is stored; a facility admin rotates it (services.display_key_rotate),
    which retires the old address."""

    counter = models.OneToOneField(Counter, on_delete=models.CASCADE, related_name="display_key")
    key_hash = models.CharField(max_length=64, unique=True)
    rotated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return f"display key of {self.counter_id}"
