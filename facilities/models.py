from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from core.models import BaseModel, District, State

from .enums import FacilityStatus, FacilityType, MembershipRole, Ownership

pincode_validator = RegexValidator(r"^[1-9][0-9]{5}$", "Enter a 6-digit pincode that does not start with 0.")


class FacilityQuerySet(models.QuerySet):
    def verified(self):
        return self.filter(status=FacilityStatus.VERIFIED)


class Facility(BaseModel):
    """A health facility in the registry. Its HFR-style `facility_id` is set at submission."""

    name = models.CharField(max_length=200)
    facility_id = models.CharField(max_length=12, unique=True, null=True, blank=True)
    status = models.CharField(max_length=20, choices=FacilityStatus.choices, default=FacilityStatus.DRAFT)
    ownership = models.CharField(max_length=2, choices=Ownership.choices)
    facility_type = models.CharField(max_length=30, choices=FacilityType.choices)
    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="facilities")
    address = models.CharField(max_length=300, blank=True)
    pincode = models.CharField(max_length=6, validators=[pincode_validator])
    beds = models.PositiveIntegerField(default=0)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="FacilityMembership", related_name="facilities", blank=True
    )

    objects = FacilityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "facilities"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(facility_id__isnull=True) | Q(facility_id__regex=r"^IN[0-9]{10}$"),
                name="facility_id_format",
            ),
            models.CheckConstraint(condition=Q(pincode__regex=r"^[1-9][0-9]{5}$"), name="facility_pincode_format"),
            models.CheckConstraint(
                condition=Q(status=FacilityStatus.DRAFT) | Q(facility_id__isnull=False),
                name="facility_id_set_once_submitted",
            ),
        ]
        indexes = [
            # District officers' work queue: their districts' facilities by status, oldest first.
            models.Index(fields=["district", "status", "created_at"], name="facility_queue_idx"),
        ]

    def __str__(self):
        return self.name


class FacilityMembership(BaseModel):
    """Binds a user to a facility with a role there (admin, staff or doctor)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=MembershipRole.choices, default=MembershipRole.STAFF)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["facility", "user"], name="membership_one_per_user_facility")]

    def __str__(self):
        return f"{self.user} @ {self.facility} ({self.role})"
