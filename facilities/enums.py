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


class PrivateSubtype(models.TextChoices):
    PROFIT = "profit", _("For profit")
    NOT_FOR_PROFIT = "not_for_profit", _("Not for profit")


class SystemOfMedicine(models.TextChoices):
    MODERN = "modern", _("Modern Medicine (Allopathy)")
    DENTISTRY = "dentistry", _("Dentistry")
    PHYSIOTHERAPY = "physiotherapy", _("Physiotherapy")
    AYURVEDA = "ayurveda", _("Ayurveda")
    UNANI = "unani", _("Unani")
    SIDDHA = "siddha", _("Siddha")
    SOWA_RIGPA = "sowa_rigpa", _("Sowa-Rigpa")
    HOMEOPATHY = "homeopathy", _("Homoeopathy")
    YOGA_NATUROPATHY = "yoga_naturopathy", _("Yoga and Naturopathy")


class ServiceType(models.TextChoices):
    OPD = "opd", _("OPD only")
    IPD = "ipd", _("IPD only")
    OPD_IPD = "opd_ipd", _("OPD and IPD")


class Region(models.TextChoices):
    RURAL = "rural", _("Rural")
    URBAN = "urban", _("Urban")


class VerifyDecision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


# Professionals go through the same workflow as facilities.
RegistryStatus = FacilityStatus


class ProfessionalCategory(models.TextChoices):
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    PHARMACIST = "pharmacist", _("Pharmacist")


class NurseCadre(models.TextChoices):
    RANM = "ranm", _("Registered Auxiliary Nurse Midwife (RANM)")
    RN = "rn", _("Registered Nurse (RN)")
    RN_RM = "rn_rm", _("Registered Nurse and Registered Midwife (RN&RM)")
    RLHV = "rlhv", _("Registered Lady Health Visitor (RLHV)")


# A doctor's sub-category is a system of medicine; these are the ones HPR lists for doctors.
DOCTOR_SYSTEMS = ["modern", "dentistry", "homeopathy", "ayurveda", "unani", "siddha", "sowa_rigpa"]


class Council(models.TextChoices):
    GUJARAT_MEDICAL = "gmc", _("Gujarat Medical Council")
    GUJARAT_DENTAL = "gdc", _("Gujarat State Dental Council")
    GUJARAT_AYUSH = "gbai", _("Gujarat Board of Ayurvedic and Unani Systems of Medicine")
    GUJARAT_HOMOEOPATHY = "gchm", _("Gujarat Council of Homoeopathic Medicine")
    GUJARAT_NURSING = "gnc", _("Gujarat Nursing Council")
    GUJARAT_PHARMACY = "gspc", _("Gujarat State Pharmacy Council")
    NATIONAL_MEDICAL = "nmc", _("National Medical Commission")


class RegistrationType(models.TextChoices):
    PERMANENT = "permanent", _("Permanent")
    RENEWABLE = "renewable", _("Renewable")


class WorkStatus(models.TextChoices):
    GOVERNMENT = "government", _("Working in government")
    PRIVATE = "private", _("Working in private practice")
    BOTH = "both", _("Government and private")
    NOT_WORKING = "not_working", _("Not working")


class BulkUploadStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
