"""The bridge URL: registered with the gateway at start (manage.py abdm_register_bridge) when it changed."""

from io import StringIO

import pytest
from django.core.management import call_command

from abdm import client, services
from abdm.enums import OutboxStatus
from abdm.models import BridgeRegistration, OutboxMessage

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("abdm_register_bridge", stdout=out, stderr=out)
    return out.getvalue()


def test_the_command_registers_the_bridge_url_once(sandbox, settings):
    settings.ABDM_BRIDGE_URL = "http://127.0.0.1:8765"
    assert "registered with ABDM" in _run()
    assert services.registered_bridge_url() == "http://127.0.0.1:8765"
    bridge = client.gateway_request("GET", "/api/hiecm/gateway/v3/bridge-services")["bridge"]
    assert bridge["url"] == "http://127.0.0.1:8765" and bridge["id"] == settings.ABDM_CLIENT_ID
    assert "already has the bridge URL" in _run()
    assert OutboxMessage.objects.count() == 1
    settings.ABDM_BRIDGE_URL = "http://127.0.0.1:8766"  # the setting changed: registered again
    assert "registered with ABDM" in _run()
    assert services.registered_bridge_url() == "http://127.0.0.1:8766"


def test_while_abdm_is_down_the_command_succeeds_and_leaves_the_update_queued(private_gateway, settings):
    settings.ABDM_BRIDGE_URL = "http://127.0.0.1:8767"
    private_gateway.stop()
    assert "did not answer" in _run()
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.PENDING and message.next_attempt_at
    assert not BridgeRegistration.objects.exists()
    assert services.register_bridge_url() == message  # queued once, not again at the next start
    private_gateway.start()
    OutboxMessage.objects.update(next_attempt_at=None)
    from abdm import outbox

    assert outbox.deliver(message.pk) == OutboxStatus.SENT
    assert services.registered_bridge_url() == "http://127.0.0.1:8767"


def test_old_callback_receipts_are_forgotten_and_recent_ones_kept():
    from datetime import timedelta

    from django.utils import timezone

    from abdm.models import CallbackReceipt
    from abdm.tasks import RECEIPT_DAYS, purge_callback_receipts

    old = CallbackReceipt.objects.create(request_id="old", path="/api/v3/x", status_code=202)
    CallbackReceipt.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=RECEIPT_DAYS + 1))
    CallbackReceipt.objects.create(request_id="new", path="/api/v3/x", status_code=202)
    assert purge_callback_receipts() == 1
    assert list(CallbackReceipt.objects.values_list("request_id", flat=True)) == ["new"]


def test_the_sweep_sends_due_messages(sandbox):
    from abdm.tasks import send_due_messages

    message = services.register_bridge_url(url="http://127.0.0.1:8000/sweep")
    assert send_due_messages() == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert send_due_messages() == 0
