"""The ABDM outbox and callback receipts for state officials: what was sent, what waits, what failed and why;
"Retry now" and "Abandon" go through the audited outbox services."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import access
from core.admin import ScopedAdmin

from . import outbox
from .models import BridgeRegistration, CallbackReceipt, OutboxMessage


class ReadOnlyAdmin(ScopedAdmin):
    """Rows are written by the portal's services only; the admin reads them (and runs actions)."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "method", "path", "status", "attempts", "next_attempt_at", "error_code"]
    list_filter = ["status", "kind", "base", "awaits_callback"]
    search_fields = ["=request_id", "kind", "subject_id", "error_code"]
    date_hierarchy = "created_at"
    actions = ["retry_now", "abandon"]
    exclude = ["body", "response"]  # they may carry personal data: the admin shows what happened, not the payload

    def get_readonly_fields(self, request, obj=None):
        return [field for field in super().get_readonly_fields(request, obj) if field not in self.exclude]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _allowed(self, request, queryset):
        return [message for message in queryset if access.can(request.user, "change", message)]

    @admin.action(description=_("Retry now"))
    def retry_now(self, request, queryset):
        done = 0
        for message in self._allowed(request, queryset):
            if outbox.message_retry(message=message, actor=request.user, request=request).status == "pending":
                done += 1
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.", done) % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Abandon"))
    def abandon(self, request, queryset):
        done = 0
        for message in self._allowed(request, queryset):
            if outbox.message_abandon(message=message, actor=request.user, request=request).status == "abandoned":
                done += 1
        self.message_user(
            request,
            ngettext("%(count)d message abandoned.", "%(count)d messages abandoned.", done) % {"count": done},
            messages.SUCCESS,
        )


@admin.register(CallbackReceipt)
class CallbackReceiptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "path", "request_id", "status_code"]
    list_filter = ["path", "status_code"]
    search_fields = ["=request_id"]
    exclude = ["reply"]

    def get_readonly_fields(self, request, obj=None):
        return [field for field in super().get_readonly_fields(request, obj) if field not in self.exclude]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BridgeRegistration)
class BridgeRegistrationAdmin(ReadOnlyAdmin):
    list_display = ["client_id", "url", "confirmed_at"]

    def has_change_permission(self, request, obj=None):
        return False
