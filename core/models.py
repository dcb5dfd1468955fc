import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .enums import Role


class BaseModel(models.Model):
    """Timestamps and a public UUID for URLs and the API; integer keys stay internal."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class State(models.Model):
    """A state or union territory, keyed by its Local Government Directory (LGD) code."""

    lgd_code = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def local_name(self) -> str:
        """The name in the active language where the portal knows it (the states whose districts it lists),
        else the LGD spelling."""
        language = (get_language() or "en")[:2]
        return STATE_LOCAL_NAMES.get(self.lgd_code, {}).get(language) or self.name


# The states whose districts the portal lists (core/data/gujarat_districts.csv), in Gujarati and Hindi.
STATE_LOCAL_NAMES = {24: {"gu": "ગુજરાત", "hi": "गुजरात"}}


class District(models.Model):
    """A district keyed by LGD code, with its names in Gujarati and Hindi for display."""

    lgd_code = models.PositiveIntegerField(primary_key=True)
    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="districts")
    name = models.CharField(max_length=100)
    name_gu = models.CharField(max_length=100, blank=True)
    name_hi = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["state", "name"], name="district_unique_name_in_state")]

    def __str__(self):
        return self.name

    @property
    def local_name(self) -> str:
        """The name in the active language, falling back to the LGD spelling."""
        language = (get_language() or "en")[:2]
        return {"gu": self.name_gu, "hi": self.name_hi}.get(language) or self.name


class PopulationFigure(BaseModel):
    """A population denominator for coverage ratios, per state or district and year.

    Kept apart from the geography so state officials can replace Census 2011 figures with
    projections. A district with no figure has no coverage ratio (never a division by zero).
    """

    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="population_figures")
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="population_figures", null=True, blank=True
    )
    year = models.PositiveSmallIntegerField()
    population = models.PositiveBigIntegerField()
    source = models.CharField(max_length=300, help_text=_("Where the figure comes from, e.g. Census 2011 PCA."))

    class Meta:
        ordering = ["state", "district", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "year"],
                condition=Q(district__isnull=False),
                name="population_one_per_district_year",
            ),
            models.UniqueConstraint(
                fields=["state", "year"], condition=Q(district__isnull=True), name="population_one_per_state_year"
            ),
            models.CheckConstraint(condition=Q(population__gt=0), name="population_positive"),
            models.CheckConstraint(condition=Q(year__gte=1900, year__lte=2200), name="population_year_sane"),
        ]

    def __str__(self):
        return f"{self.district or self.state} {self.year}: {self.population}"


class User(AbstractUser):
    """Every person who signs in: citizens, facility staff, doctors and officials.

    `role` says which home the user lands on; what they may touch is decided in core.access,
    from the role plus their bindings (districts here, facilities in the facilities app).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CITIZEN)
    mobile = models.CharField(max_length=10, blank=True)
    districts = models.ManyToManyField(District, blank=True, related_name="officers")

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_staff_account(self) -> bool:
        """Anyone but a citizen; an admin account made with createsuperuser keeps the default role, so flags count
        too. Staff accounts are signed out after STAFF_IDLE_MINUTES idle (sessions and API tokens alike)."""
        return self.role != Role.CITIZEN or self.is_staff or self.is_superuser


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")

    def for_target(self, target_type: str, target_id: str):
        return self.filter(target_type=target_type, target_id=target_id)


class AuditEvent(models.Model):
    """Append-only record of who did what to which object, when and from where.

    The model refuses updates and deletes; on PostgreSQL a trigger refuses them too.
    `details` must never hold Aadhaar numbers, OTPs or health data.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: people are deactivated or anonymised, never deleted from under their audit trail.
    # No index of its own: "audit_actor_idx" (actor, -at) leads with it, and every write in the portal adds a row.
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False)
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # "Who looked at this object?" (the citizen's access history, object audit trails).
            models.Index(fields=["target_type", "target_id", "-at"], name="audit_target_idx"),
            # "What did this user do?"
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")


class ApiTokenUse(models.Model):
    """When a staff API token (DRF's authtoken Token) was last used, for the idle sign-out.

    Written at most once a minute per token (core.services.api_token_touch); a token without a row was last used
    when it was issued. Read in the same query that authenticates the token (abha/api/authentication.py)."""

    token = models.OneToOneField("authtoken.Token", on_delete=models.CASCADE, primary_key=True, related_name="use")
    last_used = models.DateTimeField()

    def __str__(self):
        return f"last used {self.last_used:%Y-%m-%d %H:%M}"  # never the key: it is the secret


class WorkerHeartbeat(models.Model):
    """One row per worker name, touched by a beat-scheduled task; /healthz reads its age."""

    name = models.CharField(max_length=100, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} @ {self.seen_at}"


class DailyCount(models.Model):
    """Dashboard counters at the grain the dashboards read: metric x day x district x facility.

    Written by core.counters.count_add in the same transaction as the event it counts, so a
    rolled-back event leaves no count and a retried task that changes nothing adds nothing.
    Plain integers (0 = none) instead of foreign keys keep the upsert's conflict target simple.
    """

    metric = models.CharField(max_length=40)
    day = models.DateField()
    district_lgd = models.PositiveIntegerField(default=0)
    facility_key = models.PositiveBigIntegerField(default=0)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "day", "district_lgd", "facility_key"], name="dailycount_one_row_per_grain"
            )
        ]
        indexes = [
            # Dashboard totals by district and series by day: WHERE metric = ? [AND district_lgd IN (...)] GROUP BY ...
            models.Index(fields=["metric", "district_lgd", "day"], name="dailycount_metric_district_idx"),
            # Microsite milestones: WHERE metric IN (...) AND facility_key IN (its facilities) [AND day >= ?].
            models.Index(fields=["metric", "facility_key", "day"], name="dailycount_metric_facility_idx"),
        ]

    def __str__(self):
        return f"{self.metric} {self.day} d{self.district_lgd} f{self.facility_key}: {self.value}"


class CounterTotal(models.Model):
    """Running total of a DailyCount metric per district, kept by the same upserts.

    Dashboards read these 33-rows-per-metric totals; DailyCount serves date ranges and trends.
    """

    metric = models.CharField(max_length=40)
    district_lgd = models.PositiveIntegerField(default=0)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["metric", "district_lgd"], name="countertotal_one_per_district")]

    def __str__(self):
        return f"{self.metric} d{self.district_lgd}: {self.value}"


class DistrictDailyCount(models.Model):
    """DailyCount summed over facilities: metric x day x district, kept by the same upserts.

    Date-range reads (tokens today and this month, trends by day or month) sum a few rows per day here instead of
    one row per facility and day: at 20,000 facilities a month of tokens is ~2 lakh daily rows but 33 x 30 here,
    so the dashboard's time does not grow with the data.
    """

    metric = models.CharField(max_length=40)
    day = models.DateField()
    district_lgd = models.PositiveIntegerField(default=0)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["metric", "day", "district_lgd"], name="districtdailycount_one_per_day")
        ]

    def __str__(self):
        return f"{self.metric} {self.day} d{self.district_lgd}: {self.value}"


class FacilityTotal(models.Model):
    """Running total of a DailyCount metric per facility (and district), kept by the same upserts.

    Microsite milestones and the leaderboard read these instead of summing a facility's daily rows.
    The district stays in the grain because one facility's rows may name several: the citizen's district
    for ABHA numbers created with a facility's help, the old and new district of a facility that moved.
    Events without a facility (facility_key 0) have no row here: CounterTotal holds them.
    """

    metric = models.CharField(max_length=40)
    facility_key = models.PositiveBigIntegerField()
    district_lgd = models.PositiveIntegerField(default=0)
    value = models.BigIntegerField(default=0)
    # The latest day with a positive change: "live on Scan & Share" (a token in the last 30 days) reads one row
    # per facility here instead of the facility's daily rows of the window, which grow with the tokens.
    last_day = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "facility_key", "district_lgd"], name="facilitytotal_one_per_facility"
            )
        ]

    def __str__(self):
        return f"{self.metric} f{self.facility_key} d{self.district_lgd}: {self.value}"
