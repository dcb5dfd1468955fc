"""The sandbox's ABHA service state: UIDAI's residents (played locally), ABHA accounts, their addresses and the
OTP transactions of enrolment, login and profile changes.

No Aadhaar number is kept in clear, even here: a resident is found by a keyed hash of the number, and only the
last four digits are kept for messages. OTPs are kept as keyed hashes only.
"""

import uuid

from django.db import models


class Gender(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    OTHER = "O", "Other"


class Resident(models.Model):
    """A person as UIDAI knows them: demographics and the Aadhaar-linked mobile the Aadhaar OTP goes to."""

    aadhaar_hash = models.CharField(max_length=64, unique=True)  # HMAC-SHA256 of the 12 digits (abha.identity)
    aadhaar_last4 = models.CharField(max_length=4)
    name = models.CharField(max_length=200)
    gender = models.CharField(max_length=1, choices=Gender.choices)
    date_of_birth = models.DateField()
    address = models.CharField(max_length=500, blank=True)
    state_code = models.CharField(max_length=4, blank=True)
    state_name = models.CharField(max_length=100, blank=True)
    district_code = models.CharField(max_length=6, blank=True)
    district_name = models.CharField(max_length=100, blank=True)
    subdistrict_name = models.CharField(max_length=100, blank=True)
    pincode = models.CharField(max_length=6, blank=True)
    mobile = models.CharField(max_length=10)
    photo = models.TextField(blank=True)  # base64 JPEG, as UIDAI's e-KYC returns it
    generated = models.BooleanField(default=False)  # made up from the Aadhaar's hash, not defined by a helper call
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"resident XXXX-XXXX-{self.aadhaar_last4}"


class AccountStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    DEACTIVATED = "DEACTIVATED"


class Account(models.Model):
    """An ABHA: the 14-digit number ABDM issues, with the profile the M1 profile operations read and change."""

    abha_number = models.CharField(max_length=14, unique=True)  # digits only; shown NN-NNNN-NNNN-NNNN
    # One ABHA per Aadhaar (UniqueConstraint below); demo accounts made by the bulk helper may have no resident.
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    first_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    gender = models.CharField(max_length=1, choices=Gender.choices)
    year_of_birth = models.PositiveSmallIntegerField()
    month_of_birth = models.PositiveSmallIntegerField(null=True, blank=True)
    day_of_birth = models.PositiveSmallIntegerField(null=True, blank=True)
    mobile = models.CharField(max_length=10, blank=True)
    mobile_verified = models.BooleanField(default=False)
    email = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=500, blank=True)
    state_code = models.CharField(max_length=4, blank=True)
    state_name = models.CharField(max_length=100, blank=True)
    district_code = models.CharField(max_length=6, blank=True)
    district_name = models.CharField(max_length=100, blank=True)
    subdistrict_name = models.CharField(max_length=100, blank=True)
    pincode = models.CharField(max_length=6, blank=True)
    profile_photo = models.TextField(blank=True)
    kyc_photo = models.TextField(blank=True)
    kyc_verified = models.BooleanField(default=True)
    verification_type = models.CharField(max_length=30, default="AADHAAR")
    status = models.CharField(max_length=12, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    preferred_address = models.CharField(max_length=64)
    created_by_client = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resident"], name="sandbox_abha_one_account_per_aadhaar"),
            models.CheckConstraint(condition=models.Q(abha_number__regex=r"^\d{14}$"), name="sandbox_abha_number_14"),
        ]
        # login by mobile and "search ABHA" by mobile
        indexes = [models.Index(fields=["mobile"], name="sandbox_abha_account_mobile")]

    def __str__(self):
        return self.abha_number

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.middle_name, self.last_name) if part)

    @property
    def formatted_number(self) -> str:
        n = self.abha_number
        return f"{n[:2]}-{n[2:6]}-{n[6:10]}-{n[10:]}"


class AbhaAddress(models.Model):
    """An ABHA address (`local@sbx`) an account chose, unique across the sandbox whatever its case. Every account
    also has its default address, `<14-digit number>@sbx`, which is implicit (no row): no chosen address can be
    all digits, so the two never collide."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="addresses")
    address = models.CharField(max_length=64, unique=True)  # stored lower-case, with the suffix
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.address


class TransactionKind(models.TextChoices):
    ENROL_AADHAAR = "enrol-aadhaar"  # Aadhaar OTP to create an ABHA, then mobile verify, suggestions, address
    LOGIN = "login"  # profile/login: mobile, ABHA number, Aadhaar, index (find ABHA)
    SEARCH = "search"  # profile/account/abha/search: the accounts on a mobile, by index
    PROFILE = "profile"  # profile/account/request/otp: mobile change
    PHR_LOGIN = "phr-login"  # phr/web/login by ABHA address


class Transaction(models.Model):
    """One `txnId`: what it is for, who it concerns, and its current OTP (hash, expiry, attempts)."""

    txn_id = models.UUIDField(default=uuid.uuid4, unique=True)
    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    scope = models.JSONField(default=list)
    login_hint = models.CharField(max_length=20, blank=True)
    otp_system = models.CharField(max_length=10, blank=True)
    client_id = models.CharField(max_length=100, blank=True)
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.CASCADE)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE)
    candidates = models.JSONField(default=list)  # ABHA numbers a login or search may pick from
    otp_mobile = models.CharField(max_length=10, blank=True)  # where the current OTP went (a new mobile, say)
    otp_hash = models.CharField(max_length=64, blank=True)
    otp_expires_at = models.DateTimeField(null=True, blank=True)
    otp_attempts = models.PositiveSmallIntegerField(default=0)
    otp_sends = models.PositiveSmallIntegerField(default=0)
    otp_verified = models.BooleanField(default=False)
    locked_until = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # services.otp_send: the OTPs sent to a mobile in the last 30 minutes
        indexes = [models.Index(fields=["otp_mobile", "updated_at"], name="sandbox_abha_txn_mobile")]

    def __str__(self):
        return f"{self.kind} {self.txn_id}"
