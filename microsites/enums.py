from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    A = "A", _("Category A (1,000 or more facilities)")
    B = "B", _("Category B (500 to 999 facilities)")


class Metric(models.TextChoices):
    """What a milestone counts, always from live data of the microsite's area and facilities."""

    FACILITIES_REGISTERED = "facilities_registered", _("Facilities registered")
    FACILITIES_VERIFIED = "facilities_verified", _("Facilities verified")
    ABHA_CREATED = "abha_created", _("ABHA numbers created")
    PROFESSIONALS_VERIFIED = "professionals_verified", _("Professionals verified")
    RECORDS_LINKED = "records_linked", _("Health records linked")
    FACILITIES_LIVE_SCAN_SHARE = "facilities_live_scan_share", _("Facilities live on Scan & Share")
    SCAN_TOKENS = "scan_tokens", _("Scan & Share tokens")
    INCENTIVE_TRANSACTIONS = "incentive_transactions", _("DHIS incentive-eligible transactions")


class MilestoneStatus(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    ACHIEVED = "achieved", _("Achieved")
    MISSED = "missed", _("Missed")
