from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel, District, State

from .enums import (
    DOCTOR_SYSTEMS,
    BulkUploadStatus,
    Council,
    FacilityStatus,
    FacilityType,
    InvitationStatus,
    MembershipRole,
    NurseCadre,
    Ownership,
    PrivateSubtype,
    ProfessionalCategory,
    Region,
    RegistrationType,
    RegistryStatus,
    ServiceType,
    SystemOfMedicine,
    WorkStatus,
)

pincode_validator = RegexValidator(r"^[1-9][0-9]{5}$", _("Enter a 6-digit pincode that does not start with 0."))
mobile_validator = RegexValidator(r"^[6-9][0-9]{9}$", _("Enter a 10-digit mobile number starting with 6, 7, 8 or 9."))
landline_validator = RegexValidator(
    r"^0[1-9][0-9]{8,10}$", _("Enter the landline with its STD code, digits only, e.g. 02782424400.")
)
counter_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{0,19}$", _("Use 1 to 20 capital letters, digits or hyphens, e.g. OPD1.")
)

# Mainland India plus the islands, as a bounding box: a typo (swapped or missing digits) lands outside it.
INDIA_LATITUDE = (Decimal("6.5"), Decimal("37.5"))
INDIA_LONGITUDE = (Decimal("68.0"), Decimal("97.5"))
latitude_validators = [
    MinValueValidator(INDIA_LATITUDE[0], _("This latitude is outside India (6.5 to 37.5).")),
    MaxValueValidator(INDIA_LATITUDE[1], _("This latitude is outside India (6.5 to 37.5).")),
]
longitude_validators = [
    MinValueValidator(INDIA_LONGITUDE[0], _("This longitude is outside India (68 to 97.5).")),
    MaxValueValidator(INDIA_LONGITUDE[1], _("This longitude is outside India (68 to 97.5).")),
]


def validate_starts_with_letter(value: str):
    if not value or not value.strip()[:1].isalpha():
        raise ValidationError(_("The name must start with a letter."), code="name_start")


def validate_systems_of_medicine(value):
    if not isinstance(value, list) or not all(item in SystemOfMedicine.values for item in value):
        raise ValidationError(_("Choose systems of medicine from the list."), code="systems")
    if len(set(value)) != len(value):
        raise ValidationError(_("Each system of medicine may be chosen once."), code="systems")


# Fields a facility must have before it can be submitted (a draft may lack any of them).
REQUIRED_FOR_SUBMISSION = [
    "name",
    "ownership",
    "facility_type",
    "systems_of_medicine",
    "service_type",
    "state",
    "district",
    "address",
    "pincode",
    "region",
    "contact_mobile",
]


class FacilityQuerySet(models.QuerySet):
    def verified(self):
        return self.filter(status=FacilityStatus.VERIFIED)

    def awaiting_verification(self):
        return self.filter(status=FacilityStatus.SUBMITTED)

    def active_hips(self):
        """Facilities ABDM confirmed as active HIP services of the state's bridge ("live on ABDM")."""
        return self.filter(hip_active=True)


hfr_id_validator = RegexValidator(r"^IN[0-9]{10}$", _("An HFR ID is IN followed by 10 digits, e.g. IN2410000123."))


class Facility(BaseModel):
    """A health facility in the registry. Its `facility_id` is its HFR ID: the manager enters the ID that ABDM's
    facility registry (HFR) gave it, and the services check it against HFR. The portal mints no facility IDs.

    A draft may be incomplete (a facility not yet on HFR stays a draft without an ID); the constraints make every
    submitted facility complete. `hip_active` is what ABDM last confirmed: the facility is an active HIP service
    of the state's bridge (set by the outbox handler, never by the verification itself).
    """

    name = models.CharField(_("name"), max_length=200, validators=[validate_starts_with_letter])
    facility_id = models.CharField(
        _("HFR ID"), max_length=12, unique=True, null=True, blank=True, validators=[hfr_id_validator]
    )
    status = models.CharField(max_length=20, choices=FacilityStatus.choices, default=FacilityStatus.DRAFT)
    ownership = models.CharField(_("ownership"), max_length=2, choices=Ownership.choices, blank=True)
    private_subtype = models.CharField(_("private subtype"), max_length=20, choices=PrivateSubtype.choices, blank=True)
    systems_of_medicine = models.JSONField(
        _("systems of medicine"), default=list, blank=True, validators=[validate_systems_of_medicine]
    )
    facility_type = models.CharField(_("facility type"), max_length=30, choices=FacilityType.choices, blank=True)
    service_type = models.CharField(_("type of service"), max_length=10, choices=ServiceType.choices, blank=True)
    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="facilities", null=True, blank=True, verbose_name=_("district")
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    pincode = models.CharField(_("pincode"), max_length=6, blank=True, validators=[pincode_validator])
    latitude = models.DecimalField(
        _("latitude"), max_digits=8, decimal_places=6, null=True, blank=True, validators=latitude_validators
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True, validators=longitude_validators
    )
    region = models.CharField(_("rural or urban"), max_length=5, choices=Region.choices, blank=True)
    beds = models.PositiveIntegerField(_("beds"), default=0)
    contact_mobile = models.CharField(_("contact mobile"), max_length=10, blank=True, validators=[mobile_validator])
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_landline = models.CharField(_("landline"), max_length=12, blank=True, validators=[landline_validator])
    timings = models.CharField(_("timings"), max_length=200, blank=True)
    rejection_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="FacilityMembership", related_name="facilities", blank=True
    )
    # What ABDM confirmed about the facility as an HIP service of the state's bridge (bridge services add/update).
    hip_active = models.BooleanField(_("active HIP on ABDM"), default=False)
    hip_confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = FacilityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "facilities"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(facility_id__isnull=True) | Q(facility_id__regex=r"^IN[0-9]{10}$"),
                name="facility_id_format",
            ),
            models.CheckConstraint(
                condition=Q(pincode="") | Q(pincode__regex=r"^[1-9][0-9]{5}$"), name="facility_pincode_format"
            ),
            models.CheckConstraint(
                condition=Q(status=FacilityStatus.DRAFT) | Q(facility_id__isnull=False),
                name="facility_id_set_once_submitted",
            ),
            models.CheckConstraint(
                condition=Q(status=FacilityStatus.DRAFT)
                | (Q(district__isnull=False) & Q(state__isnull=False) & ~Q(pincode="") & ~Q(facility_type="")),
                name="facility_complete_once_submitted",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True)
                | Q(latitude__gte=INDIA_LATITUDE[0], latitude__lte=INDIA_LATITUDE[1]),
                name="facility_latitude_in_india",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True)
                | Q(longitude__gte=INDIA_LONGITUDE[0], longitude__lte=INDIA_LONGITUDE[1]),
                name="facility_longitude_in_india",
            ),
            models.CheckConstraint(
                condition=~Q(status=FacilityStatus.REJECTED) | ~Q(rejection_reason=""),
                name="facility_rejection_has_reason",
            ),
        ]
        indexes = [
            # District officers' work queue: their districts' facilities by status, oldest first.
            models.Index(fields=["district", "status", "created_at"], name="facility_queue_idx"),
            # Duplicate hints: other facilities with the same contact mobile.
            models.Index(fields=["contact_mobile"], name="facility_mobile_idx"),
            # Duplicate hints and bulk upload's natural key: name within a pincode.
            models.Index(fields=["pincode", "name"], name="facility_pincode_name_idx"),
            # Directory: verified facilities in name order, all or by type or district, paged with LIMIT/OFFSET.
            models.Index(fields=["status", "name", "id"], name="facility_directory_idx"),
            models.Index(fields=["status", "facility_type", "name", "id"], name="facility_dir_type_idx"),
            models.Index(fields=["status", "district", "name", "id"], name="facility_dir_district_idx"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.district_id and self.state_id and self.district.state_id != self.state_id:
            errors["district"] = _("This district is not in the chosen state.")
        if self.private_subtype and self.ownership != Ownership.PRIVATE:
            errors["private_subtype"] = _("Only a private facility has a private subtype.")
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = _(
                "Give both latitude and longitude, or neither."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_editable(self) -> bool:
        """The manager edits a draft, or a rejected facility before resubmitting it."""
        return self.status in (FacilityStatus.DRAFT, FacilityStatus.REJECTED)

    @property
    def systems_of_medicine_labels(self) -> list[str]:
        labels = dict(SystemOfMedicine.choices)
        return [labels.get(code, code) for code in self.systems_of_medicine]


class FacilityMembership(BaseModel):
    """Binds a user to a facility with a role there (admin, staff or doctor)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=MembershipRole.choices, default=MembershipRole.STAFF)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["facility", "user"], name="membership_one_per_user_facility")]

    def __str__(self):
        return f"{self.user} @ {self.facility} ({self.role})"


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        """Invitations still open: pending and not past their expiry."""
        return self.filter(status=InvitationStatus.PENDING, expires_at__gt=timezone.now())


class Invitation(BaseModel):
    """An invitation to a facility's team, sent by SMS to a mobile: no account gets a role until the invitee
    accepts it through the link (only its hash is kept here; the token travels in the SMS alone)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=MembershipRole.choices)
    mobile = models.CharField(max_length=10, validators=[mobile_validator])
    name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        constraints = [
            # A new invitation to the same mobile replaces the pending one (invitation_create expires it first).
            models.UniqueConstraint(
                fields=["facility", "mobile"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_mobile",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "declined", "expired"]), name="invitation_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.role} @ {self.facility} ({self.status})"


class CounterQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Counter(BaseModel):
    """A Scan & Share counter of a verified facility (e.g. OPD1 "General OPD"); its QR poster carries the code."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="counters")
    code = models.CharField(_("code"), max_length=20, validators=[counter_code_validator])
    name = models.CharField(_("counter name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    objects = CounterQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "code"], name="counter_unique_code_per_facility"),
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z0-9][A-Z0-9-]{0,19}$"), name="counter_code_format"),
        ]

    def __str__(self):
        return f"{self.facility} / {self.code}"


# --- Professional registry (HPR) ---------------------------------------------------------

hpr_id_validator = RegexValidator(r"^[0-9]{14}$", _("An HPR ID has 14 digits, e.g. 71-1227-4427-0212."))


def validate_qualifications(value):
    """A list of {"degree", "college", "year"}; degree required, year a 4-digit year."""
    message = _("Give each qualification as degree, college and year.")
    if not isinstance(value, list):
        raise ValidationError(message, code="qualifications")
    for item in value:
        if not isinstance(item, dict) or not str(item.get("degree", "")).strip():
            raise ValidationError(message, code="qualifications")
        year = item.get("year")
        if year not in (None, "") and not (str(year).isdecimal() and 1900 <= int(year) <= 2100):
            raise ValidationError(_("A qualification's year must be a 4-digit year."), code="qualifications")


class ProfessionalQuerySet(models.QuerySet):
    def verified(self):
        return self.filter(status=RegistryStatus.VERIFIED)


class Professional(BaseModel):
    """A health professional in the registry. `hpr_id` is their ID number on ABDM's professional registry (HPR),
    14 digits: the professional enters it and the services check it against HPR. The portal mints no HPR IDs."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="professional"
    )
    hpr_id = models.CharField(
        _("HPR ID"), max_length=14, unique=True, null=True, blank=True, validators=[hpr_id_validator]
    )
    status = models.CharField(max_length=20, choices=RegistryStatus.choices, default=RegistryStatus.DRAFT)
    name = models.CharField(_("name"), max_length=200, validators=[validate_starts_with_letter])
    category = models.CharField(_("category"), max_length=20, choices=ProfessionalCategory.choices)
    sub_category = models.CharField(_("sub-category"), max_length=20, blank=True)
    council = models.CharField(_("council"), max_length=10, choices=Council.choices, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=40, blank=True)
    registration_date = models.DateField(_("registration date"), null=True, blank=True)
    registration_type = models.CharField(
        _("registration type"), max_length=10, choices=RegistrationType.choices, blank=True
    )
    renewal_due_date = models.DateField(_("renewal due date"), null=True, blank=True)
    qualifications = models.JSONField(
        _("qualifications"), default=list, blank=True, validators=[validate_qualifications]
    )
    work_status = models.CharField(_("work status"), max_length=20, choices=WorkStatus.choices, blank=True)
    # Personal contact details: never in the public directory.
    mobile = models.CharField(_("mobile"), max_length=10, blank=True, validators=[mobile_validator])
    email = models.EmailField(_("email"), blank=True)
    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        related_name="professionals",
        null=True,
        blank=True,
        verbose_name=_("district"),
    )
    rejection_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    facilities = models.ManyToManyField(Facility, through="Affiliation", related_name="professionals", blank=True)

    objects = ProfessionalQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            # The same council never registers one number twice.
            models.UniqueConstraint(
                fields=["council", "registration_number"],
                condition=~Q(registration_number=""),
                name="professional_unique_registration_per_council",
                violation_error_message=_("This registration number is already registered with this council."),
            ),
            models.CheckConstraint(
                condition=Q(hpr_id__isnull=True) | Q(hpr_id__regex=r"^[0-9]{14}$"), name="professional_hpr_id_format"
            ),
            models.CheckConstraint(
                condition=~Q(status=RegistryStatus.VERIFIED) | Q(hpr_id__isnull=False),
                name="professional_verified_has_hpr_id",
            ),
            models.CheckConstraint(
                condition=~Q(registration_type=RegistrationType.RENEWABLE) | Q(renewal_due_date__isnull=False),
                name="professional_renewable_has_due_date",
            ),
            models.CheckConstraint(
                condition=Q(status=RegistryStatus.DRAFT)
                | (Q(district__isnull=False) & ~Q(council="") & ~Q(registration_number="")),
                name="professional_complete_once_submitted",
            ),
            models.CheckConstraint(
                condition=~Q(status=RegistryStatus.REJECTED) | ~Q(rejection_reason=""),
                name="professional_rejection_has_reason",
            ),
        ]
        indexes = [
            # District officers' queue of professionals, oldest submission first.
            models.Index(fields=["district", "status", "submitted_at"], name="professional_queue_idx"),
            # Directory: verified professionals in name order, all or by category or district.
            models.Index(fields=["status", "name", "id"], name="professional_directory_idx"),
            models.Index(fields=["status", "category", "name", "id"], name="professional_dir_category_idx"),
            models.Index(fields=["status", "district", "name", "id"], name="professional_dir_district_idx"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.category == ProfessionalCategory.DOCTOR and self.sub_category not in ("", *DOCTOR_SYSTEMS):
            errors["sub_category"] = _("For a doctor, choose a system of medicine.")
        if self.category == ProfessionalCategory.NURSE and self.sub_category not in ("", *NurseCadre.values):
            errors["sub_category"] = _("For a nurse, choose a nursing cadre.")
        if self.category == ProfessionalCategory.PHARMACIST and self.sub_category:
            errors["sub_category"] = _("A pharmacist has no sub-category.")
        if self.registration_type == RegistrationType.RENEWABLE and not self.renewal_due_date:
            errors["renewal_due_date"] = _("A renewable registration needs its due date.")
        if self.registration_type == RegistrationType.PERMANENT and self.renewal_due_date:
            errors["renewal_due_date"] = _("A permanent registration has no due date.")
        if self.registration_date and self.registration_date > timezone.localdate():
            errors["registration_date"] = _("The registration date cannot be in the future.")
        if self.district_id and self.state_id and self.district.state_id != self.state_id:
            errors["district"] = _("This district is not in the chosen state.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_lapsed(self) -> bool:
        """A renewable registration past its due date."""
        return (
            self.registration_type == RegistrationType.RENEWABLE
            and self.renewal_due_date is not None
            and self.renewal_due_date < timezone.localdate()
        )

    @property
    def sub_category_label(self) -> str:
        labels = {**dict(SystemOfMedicine.choices), **dict(NurseCadre.choices)}
        return str(labels.get(self.sub_category, self.sub_category))

    @property
    def hpr_id_display(self) -> str:
        """NN-NNNN-NNNN-NNNN, the way HPR prints it."""
        if not self.hpr_id:
            return ""
        return f"{self.hpr_id[:2]}-{self.hpr_id[2:6]}-{self.hpr_id[6:10]}-{self.hpr_id[10:]}"


class Affiliation(BaseModel):
    """A professional works at a facility; the facility's admin confirms it."""

    professional = models.ForeignKey(Professional, on_delete=models.CASCADE, related_name="affiliations")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="affiliations")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["professional", "facility"], name="affiliation_one_per_pair"),
        ]

    def __str__(self):
        return f"{self.professional} @ {self.facility}"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


# --- Bulk onboarding -------------------------------------------------------------------------


class BulkUpload(BaseModel):
    """A CSV of government facilities uploaded by an official, processed by a Celery task."""

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to="bulk/facilities/%Y/%m/")
    original_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=BulkUploadStatus.choices, default=BulkUploadStatus.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    error_report = models.FileField(upload_to="bulk/reports/%Y/%m/", blank=True)
    message = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.original_name or self.file.name} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == BulkUploadStatus.DONE:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
