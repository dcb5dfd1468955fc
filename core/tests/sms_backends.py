"""SMS backends for tests that need the gateway to fail (SMS_BACKEND takes a dotted path)."""

from core import tasks
from core.sms import LocmemBackend, SmsDeliveryError


class GatewayDown:
    """Every message fails as an unreachable gateway does."""

    def send(self, to: str, text: str) -> None:
        raise SmsDeliveryError("Gateway answered 503.")


class GatewayFailsTwice(LocmemBackend):
    """Fails the first two messages, then delivers to the locmem outbox (a gateway that comes back)."""

    failures = 0

    def send(self, to: str, text: str) -> None:
        if GatewayFailsTwice.failures < 2:
            GatewayFailsTwice.failures += 1
            raise SmsDeliveryError("Gateway answered 503.")
        super().send(to, text)


def gateway_down(settings, monkeypatch) -> list[dict]:
    """Makes every SMS fail at the gateway; returns the list that collects the retries queued for core.sms_send
    (their keyword arguments and countdown) instead of sending them to the broker."""
    settings.SMS_BACKEND = "core.tests.sms_backends.GatewayDown"
    queued = []

    def apply_async(*, kwargs, countdown, kwargsrepr):
        queued.append({**kwargs, "countdown": countdown, "kwargsrepr": kwargsrepr})

    monkeypatch.setattr(tasks.sms_send, "apply_async", apply_async)
    return queued
