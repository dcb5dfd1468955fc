import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext

from . import errors
from .enums import OutboxBase, OutboxStatus


class OutboxMessageQuerySet(models.QuerySet):
    def for_subject(self, subject):
        content_type = ContentType.objects.get_for_model(subject)
        return self.filter(subject_type=content_type, subject_id=str(subject.pk))

    def due(self, now):
        """Pending messages whose next attempt is due (the minute sweep; index outbox_pending_due)."""
        return self.filter(status=OutboxStatus.PENDING).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )

    def open(self):
        return self.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.AWAITING_CALLBACK])


class OutboxMessage(models.Model):
    """One call to ABDM, written in the same transaction as the domain change it reports, sent by Celery after the
    commit (abdm.outbox). Its `request_id` is the call's REQUEST-ID, so ABDM's callback finds it again."""

    request_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=100)  # what the call does; handlers are registered by kind
    base = models.CharField(max_length=10, choices=OutboxBase.choices, default=OutboxBase.GATEWAY)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body = models.JSONField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)  # extra headers (X-HIP-ID, X-HIU-ID, ...)
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subject_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    awaits_callback = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    last_error = models.TextField(blank=True)
    response = models.JSONField(null=True, blank=True)  # ABDM's reply: the 2xx body or the callback's body
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"),
            models.CheckConstraint(condition=Q(base__in=OutboxBase.values), name="outbox_base_valid"),
        ]
        indexes = [
            # messages_for(subject): a subject's messages, newest first.
            models.Index(fields=["subject_type", "subject_id", "-created_at"], name="outbox_subject"),
            # The minute sweep: pending messages by next attempt.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_due"),
        ]

    def __str__(self):
        return f"{self.kind} {self.request_id}"

    @property
    def state_label(self) -> str:
        """Plain words for staff pages, in the reader's language."""
        if self.status in (OutboxStatus.PENDING, OutboxStatus.AWAITING_CALLBACK):
            return gettext("Waiting for ABDM")
        if self.status == OutboxStatus.SENT:
            return gettext("Sent to ABDM")
        if self.status == OutboxStatus.DONE:
            return gettext("Confirmed by ABDM")
        if self.status == OutboxStatus.FAILED:
            return gettext("Failed: %(reason)s") % {"reason": self.failure_reason}
        return gettext("Abandoned")

    @property
    def failure_reason(self) -> str:
        if self.error_code == "gave_up":
            return str(errors.UNAVAILABLE)
        return errors.user_message_for(self.error_code, self.last_error)


class CallbackReceipt(models.Model):
    """A callback from the gateway that the portal answered, by its REQUEST-ID: a replay gets the same answer."""

    request_id = models.CharField(max_length=100, unique=True)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()
    reply = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.path} {self.request_id}"


class BridgeRegistration(models.Model):
    """The bridge URL the gateway last confirmed for this portal (one row per client ID)."""

    client_id = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500)
    confirmed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.client_id} -> {self.url}"
