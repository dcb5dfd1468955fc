from django.db import models
from django.utils.translation import gettext_lazy as _


class FacilityStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class Ownership(models.TextChoices):
    GOVERNMENT = "G", _("Government")
    PRIVATE = "P", _("Private")
    PUBLIC_PRIVATE = "PP", _("Public-private partnership")


class FacilityType(models.TextChoices):
    SUB_CENTRE = "sub_centre", _("Sub centre")
    PHC = "phc", _("Primary health centre")
    CHC = "chc", _("Community health centre")
    DISTRICT_HOSPITAL = "district_hospital", _("District hospital")
    MEDICAL_COLLEGE = "medical_college_hospital", _("Medical college hospital")
    CLINIC = "clinic", _("Clinic")
    NURSING_HOME = "nursing_home", _("Nursing home")
    HOSPITAL = "hospital", _("Hospital")
    DIAGNOSTIC_LAB = "diagnostic_lab", _("Diagnostic lab")
    IMAGING_CENTRE = "imaging_centre", _("Imaging centre")
    PHARMACY = "pharmacy", _("Pharmacy")
    HWC = "health_wellness_centre", _("Health and wellness centre")


class MembershipRole(models.TextChoices):
    ADMIN = "admin", _("Facility admin")
    STAFF = "staff", _("Staff")
    DOCTOR = "doctor", _("Doctor")
