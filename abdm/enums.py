from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    """Where an outbox message is. pending -> sent (a synchronous call ABDM accepted), or pending ->
    awaiting_callback -> done (ABDM accepted it and answered later on a callback). pending -> failed (ABDM refused
    it, or did not answer for ABDM_OUTBOX_GIVE_UP_HOURS); pending/awaiting_callback/failed -> abandoned (an
    administrator gave up on it)."""

    PENDING = "pending", _("Waiting for ABDM")
    SENT = "sent", _("Sent to ABDM")
    AWAITING_CALLBACK = "awaiting_callback", _("Waiting for ABDM's answer")
    DONE = "done", _("Confirmed by ABDM")
    FAILED = "failed", _("Failed")
    ABANDONED = "abandoned", _("Abandoned")


class OutboxBase(models.TextChoices):
    """Which ABDM service a message goes to (the settings that hold its base URL)."""

    GATEWAY = "gateway", "ABDM_GATEWAY_URL"
    ABHA = "abha", "ABDM_ABHA_URL"
    HFR = "hfr", "ABDM_HFR_URL"
