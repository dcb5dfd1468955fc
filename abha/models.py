from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.functional import cached_property

from core.models import BaseModel, District, State

from .enums import AccountStatus, Channel, Gender, OtpPurpose
from .identifiers import abha_number_display, address_full

# The consent text the citizen accepts before any OTP is sent (templates/abha/consent_<version>.html).
CURRENT_CONSENT_VERSION = "2025-04"


class AbhaAccountQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=AccountStatus.ACTIVE)

    def not_deleted(self):
        return self.exclude(status=AccountStatus.DELETED)

    def on_mobile(self, mobile: str):
        """The accounts a mobile holds (deleted ones free their place)."""
        return self.not_deleted().filter(mobile=mobile)


class AbhaAccount(BaseModel):
    """One ABHA issued by ABDM: its 14-digit number, the profile ABDM holds, and how it was created here.

    The citizen signs in as `user` (role citizen, username = the ABHA number). The profile (names, gender, birth
    date, mobile, address, state and district by LGD code) is copied from ABDM's answers at enrolment and sign-in.
    The ABDM user token that fetches the card and profile is kept sealed (abha.tokens) with its expiry. No trace
    of the Aadhaar number is kept: ABDM finds an Aadhaar's existing ABHA itself.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="abha")
    abha_number = models.CharField(max_length=14, unique=True)
    status = models.CharField(max_length=12, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    first_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    gender = models.CharField(max_length=1, choices=Gender.choices)
    year_of_birth = models.PositiveSmallIntegerField()
    month_of_birth = models.PositiveSmallIntegerField(null=True, blank=True)
    day_of_birth = models.PositiveSmallIntegerField(null=True, blank=True)
    mobile = models.CharField(max_length=10)
    email = models.EmailField(blank=True)
    # By LGD code as ABDM gives them; empty when ABDM gave none or names a district outside the portal's state.
    state = models.ForeignKey(State, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="abha_accounts"
    )
    address = models.CharField(max_length=300, blank=True)
    pincode = models.CharField(max_length=6, blank=True)
    # ABDM's user token (X-token) and refresh token, sealed (abha.tokens); never shown, never logged.
    abdm_token = models.TextField(blank=True, default="", editable=False)
    abdm_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    abdm_refresh_token = models.TextField(blank=True, default="", editable=False)
    abdm_refresh_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    consent_version = models.CharField(max_length=20)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SELF)
    assisted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assisted_facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, null=True, blank=True, related_name="assisted_abha_accounts"
    )
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The language the citizen last used the portal in (signed in, or switched to while signed in): the SMS they
    # get without asking (a doctor's consent request) is written in it. Blank: not known yet.
    language = models.CharField(max_length=8, blank=True, default="")

    objects = AbhaAccountQuerySet.as_manager()

    class Meta:
        verbose_name = "ABHA account"
        constraints = [
            models.CheckConstraint(condition=Q(abha_number__regex=r"^[0-9]{14}$"), name="abha_number_14_digits"),
            models.CheckConstraint(
                condition=Q(month_of_birth__isnull=True) | Q(month_of_birth__gte=1, month_of_birth__lte=12),
                name="abha_month_of_birth_range",
            ),
            models.CheckConstraint(
                condition=Q(day_of_birth__isnull=True) | (Q(day_of_birth__gte=1, day_of_birth__lte=31)),
                name="abha_day_of_birth_range",
            ),
            models.CheckConstraint(
                condition=Q(day_of_birth__isnull=True) | Q(month_of_birth__isnull=False), name="abha_day_needs_month"
            ),
        ]
        indexes = [
            # Dashboards: ABHA created per district (and channel), without scanning the table.
            models.Index(fields=["district", "channel"], name="abha_district_channel_idx"),
            # "How many ABHAs does this mobile hold?" (the limit of 6) and sign-in by mobile.
            models.Index(fields=["mobile"], name="abha_mobile_idx"),
            # Microsite and facility counts of assisted enrollments.
            models.Index(
                fields=["assisted_facility"], condition=Q(assisted_facility__isnull=False), name="abha_facility_idx"
            ),
        ]

    def __str__(self):
        # Only the number: audit rows copy this label and must not keep a deleted person's name.
        return self.abha_number_display

    @property
    def abha_number_display(self) -> str:
        return abha_number_display(self.abha_number)

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.middle_name, self.last_name) if part)

    @property
    def dob_display(self) -> str:
        """D/M/YYYY, partial when only the year (or year and month) is known, as on ABHA cards."""
        parts = [str(p) for p in (self.day_of_birth, self.month_of_birth) if p]
        return "/".join([*parts, str(self.year_of_birth)])

    @property
    def is_active(self) -> bool:
        return self.status == AccountStatus.ACTIVE

    @cached_property
    def primary_address(self) -> "AbhaAddress | None":
        """The primary ABHA address, read once per instance like the account's own fields (the API's token
        authentication loads it with the account)."""
        return self.addresses.filter(is_primary=True).first()


class AbhaAddressQuerySet(models.QuerySet):
    """Look-ups by address go through Lower(local), so they use the case-insensitive unique index."""

    def named(self, local: str):
        return self.alias(local_ci=Lower("local")).filter(local_ci=local.lower())

    def named_any(self, locals_: list[str]):
        return self.alias(local_ci=Lower("local")).filter(local_ci__in=[local.lower() for local in locals_])


class AbhaAddress(BaseModel):
    """An ABHA address `<local>@<suffix>`; an account has its number as default and may add more."""

    account = models.ForeignKey(AbhaAccount, on_delete=models.CASCADE, related_name="addresses")
    local = models.CharField(max_length=18)
    is_primary = models.BooleanField(default=False)

    objects = AbhaAddressQuerySet.as_manager()

    class Meta:
        verbose_name = "ABHA address"
        ordering = ["-is_primary", "created_at"]
        constraints = [
            models.UniqueConstraint(Lower("local"), name="abha_address_unique_ci"),
            models.UniqueConstraint(fields=["account"], condition=Q(is_primary=True), name="abha_address_one_primary"),
            models.CheckConstraint(condition=Q(local=Lower("local")), name="abha_address_lower_case"),
        ]

    def __str__(self):
        return self.full

    @property
    def full(self) -> str:
        return address_full(self.local)


class OtpTransaction(BaseModel):
    """One OTP conversation; its `uuid` is the client's `txn_id`.

    Enrollment and sign-in run through ABDM: ABDM sends and checks the OTPs, and this row holds ABDM's
    transaction id (`abdm_txn_id`), the wizard's step and, for a sign-in choosing among a mobile's ABHAs, ABDM's
    transaction token (sealed). Never the Aadhaar number, never an OTP. The account changes the portal still
    confirms itself (deactivate, reactivate, delete) keep their OTP as an HMAC (`otp_hash`).
    """

    purpose = models.CharField(max_length=10, choices=OtpPurpose.choices)
    mobile = models.CharField(max_length=10, blank=True)
    otp_hash = models.CharField(max_length=64, blank=True)
    abdm_txn_id = models.CharField(max_length=64, blank=True)
    step = models.CharField(max_length=12, blank=True)
    abdm_token = models.TextField(blank=True, default="", editable=False)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    resend_count = models.PositiveSmallIntegerField(default=0)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    consent_version = models.CharField(max_length=20, blank=True)
    # Sign-in: the one account named by ABHA number/address, or empty for "any ABHA on this mobile".
    account = models.ForeignKey(AbhaAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SELF)
    assisted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    assisted_facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    draft = models.JSONField(default=dict, blank=True)
    created_account = models.ForeignKey(AbhaAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [
            # Expired transactions are purged by age.
            models.Index(fields=["created_at"], name="otp_txn_created_idx"),
        ]

    def __str__(self):
        return f"{self.purpose} {self.uuid}"
