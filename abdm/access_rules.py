"""Access rules for the abdm app's models (see core.access): the ABDM outbox and callback receipts are the
state's integration with ABDM, so state officials see them and may retry or abandon a message."""

from core import access

from .models import BridgeRegistration, CallbackReceipt, OutboxMessage


@access.scoper(OutboxMessage)
@access.scoper(OutboxMessage, "change")
@access.scoper(CallbackReceipt)
@access.scoper(BridgeRegistration)
def _state_officials_see_abdm_traffic(user, queryset):
    return queryset if access.is_state_official(user) else queryset.none()


@access.rule(OutboxMessage, "view", "change")
@access.rule(CallbackReceipt, "view")
@access.rule(BridgeRegistration, "view")
def _state_officials_manage_abdm_traffic(user, obj):
    return access.is_state_official(user)
