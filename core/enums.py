from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    FACILITY_STAFF = "facility_staff", _("Facility staff")
    FACILITY_ADMIN = "facility_admin", _("Facility admin")
    DISTRICT_OFFICER = "district_officer", _("District officer")
    STATE_OFFICIAL = "state_official", _("State official")
    DOCTOR = "doctor", _("Doctor")


# Roles that use the Django admin (with the same scoping as the rest of the portal).
OFFICIAL_ROLES = frozenset({Role.DISTRICT_OFFICER, Role.STATE_OFFICIAL})
FACILITY_ROLES = frozenset({Role.FACILITY_STAFF, Role.FACILITY_ADMIN, Role.DOCTOR})


class CountMetric(models.TextChoices):
    """Dashboard counters kept in core.models.DailyCount (see core.counters)."""

    ABHA_CREATED = "abha_created", _("ABHA numbers created")
    ABHA_ACTIVE = "abha_active", _("ABHA accounts (active)")
    FACILITIES_REGISTERED = "facilities_registered", _("Facilities registered")
    FACILITIES_VERIFIED = "facilities_verified", _("Facilities verified")
    PROFESSIONALS_VERIFIED = "professionals_verified", _("Professionals verified")
    RECORDS_LINKED = "records_linked", _("Health records linked")
    SCAN_TOKENS = "scan_tokens", _("Scan & Share tokens")
    # Facilities in each remaining status (verified is FACILITIES_VERIFIED): the summary's "by status".
    FACILITIES_DRAFT = "facilities_draft", _("Facilities in draft")
    FACILITIES_SUBMITTED = "facilities_submitted", _("Facilities awaiting verification")
    FACILITIES_REJECTED = "facilities_rejected", _("Facilities rejected")
    FACILITIES_SUSPENDED = "facilities_suspended", _("Facilities suspended")
    FACILITIES_CLOSED = "facilities_closed", _("Facilities closed")


# A facility counts as registered in these states (drafts and rejected ones do not), and as verified in one.
FACILITY_REGISTERED_STATES = frozenset({"submitted", "verified", "suspended"})
# The counter of facilities in each status (core has no domain imports: facilities.enums.FacilityStatus values).
FACILITY_STATUS_METRICS = {
    "draft": CountMetric.FACILITIES_DRAFT,
    "submitted": CountMetric.FACILITIES_SUBMITTED,
    "verified": CountMetric.FACILITIES_VERIFIED,
    "rejected": CountMetric.FACILITIES_REJECTED,
    "suspended": CountMetric.FACILITIES_SUSPENDED,
    "closed": CountMetric.FACILITIES_CLOSED,
}
