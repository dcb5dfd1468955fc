"""`{% load abdm_tags %}{% abdm_status facility %}`: the state of the latest ABDM call about an object, for staff."""

from django import template
from django.utils.html import format_html

from abdm.enums import OutboxStatus
from abdm.outbox import latest_for

register = template.Library()

_CSS = {
    OutboxStatus.PENDING: "pending",
    OutboxStatus.AWAITING_CALLBACK: "pending",
    OutboxStatus.SENT: "ok",
    OutboxStatus.DONE: "ok",
    OutboxStatus.FAILED: "error",
    OutboxStatus.ABANDONED: "error",
}


@register.simple_tag
def abdm_status(subject):
    """The latest outbox message's state ("Waiting for ABDM", "Failed: <reason>"...), or nothing when none."""
    if subject is None or getattr(subject, "pk", None) is None:
        return ""
    message = latest_for(subject)
    if message is None:
        return ""
    return format_html(
        '<span class="abdm-status abdm-status--{}" title="{}">{}</span>',
        _CSS.get(message.status, "pending"),
        message.kind,
        message.state_label,
    )
