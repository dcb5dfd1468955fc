from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    OTHER = "O", _("Other")
    UNDISCLOSED = "U", _("Prefer not to say")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DEACTIVATED = "deactivated", _("Deactivated")
    DELETED = "deleted", _("Deleted")


class Channel(models.TextChoices):
    """How an ABHA was created, for coverage counts by channel."""

    SELF = "self", _("Self")
    ASSISTED = "assisted", _("Assisted at a facility")
    CAMP = "camp", _("Enrollment camp")


class OtpPurpose(models.TextChoices):
    ENROL = "enrol", _("Enrollment")
    LOGIN = "login", _("Sign in")
    MOBILE_CHANGE = "mobile", _("Change of mobile number")
    DEACTIVATE = "deactivate", _("Deactivation")
    REACTIVATE = "reactivate", _("Reactivation")
    DELETE = "delete", _("Deletion")
