from django.db import models
from django.utils.translation import gettext_lazy as _


class TokenStatus(models.TextChoices):
    """A Scan & Share OPD token: waiting -> called -> done, or no-show / expired."""

    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called")
    DONE = "done", _("Done")
    NO_SHOW = "no_show", _("No-show")
    EXPIRED = "expired", _("Expired")


class ShareSource(models.TextChoices):
    """Where the patient shared: the portal's /scan/ page, or the ABHA app through ABDM (the gateway's callback)."""

    PORTAL = "portal", _("Portal scan page")
    ABDM = "abdm", _("ABHA app")


# A token still in the queue (a repeat share within validity returns it).
OPEN_TOKEN_STATES = frozenset({TokenStatus.WAITING, TokenStatus.CALLED})
