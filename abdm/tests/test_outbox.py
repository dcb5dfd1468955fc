"""The ABDM outbox against the sandbox over HTTP: sent once, backoff while ABDM is down, failures, admin actions."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from abdm import client, outbox, services
from abdm.enums import OutboxStatus
from abdm.models import BridgeRegistration, OutboxMessage
from conftest import start_celery_worker, stop_celery_worker
from core.models import AuditEvent, District
from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory

BRIDGE_URL = services.BRIDGE_URL_PATH
TEST_KIND = "abdm.test_bridge_url"
RECORDED = {"success": [], "failure": []}


def _on_success(message, body):
    RECORDED["success"].append((message.request_id, body))


def _on_failure(message):
    RECORDED["failure"].append(message.request_id)


outbox.register_handler(TEST_KIND, on_success=_on_success, on_failure=_on_failure)


@pytest.fixture(autouse=True)
def _recorded():
    for calls in RECORDED.values():
        calls.clear()


def _enqueue(url="http://127.0.0.1:8000", subject=None):
    return outbox.enqueue(kind=TEST_KIND, method="PATCH", path=BRIDGE_URL, json={"url": url}, subject=subject)


def _wait_for(predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db
def test_a_message_is_sent_with_its_request_id_and_its_handler_runs(sandbox):
    message = _enqueue()
    assert message.status == OutboxStatus.PENDING and message.state_label == "Waiting for ABDM"
    assert outbox.deliver(message.pk) == OutboxStatus.SENT
    message.refresh_from_db()
    assert (message.status, message.attempts, message.state_label) == (OutboxStatus.SENT, 1, "Sent to ABDM")
    assert message.sent_at and message.completed_at
    assert RECORDED["success"] == [(message.request_id, None)]  # 202 without a body
    assert outbox.deliver(message.pk) is None  # never twice
    assert message.attempts == 1


@pytest.mark.django_db
def test_a_refusal_fails_the_message_with_abdms_reason_in_plain_words(sandbox):
    message = _enqueue(url="not a url")
    assert outbox.deliver(message.pk) == OutboxStatus.FAILED
    message.refresh_from_db()
    assert message.error_code == "ABDM-1006" and message.last_error
    assert message.state_label.startswith("Failed: ")
    assert RECORDED["failure"] == [message.request_id] and not RECORDED["success"]
    with translation.override("gu"):
        assert message.state_label.startswith("નિષ્ફળ: ")


@pytest.mark.django_db
def test_while_abdm_is_down_the_message_waits_with_backoff_and_goes_when_it_is_back(private_gateway):
    message = _enqueue()
    private_gateway.stop()
    before = timezone.now()
    assert outbox.deliver(message.pk) == OutboxStatus.PENDING
    message.refresh_from_db()
    assert message.attempts == 1 and message.error_code == "unreachable"
    delay = (message.next_attempt_at - before).total_seconds()
    assert outbox.FIRST_RETRY_SECONDS / 2 - 1 <= delay <= outbox.FIRST_RETRY_SECONDS + 1
    assert outbox.deliver(message.pk) is None  # not due yet: nothing is sent
    assert OutboxMessage.objects.due(timezone.now()).count() == 0
    # The second failure waits longer (doubling, with jitter), never beyond the cap.
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    outbox.deliver(message.pk)
    message.refresh_from_db()
    assert message.attempts == 2 and message.status == OutboxStatus.PENDING
    assert outbox.retry_delay(2) <= outbox.FIRST_RETRY_SECONDS * 2
    assert outbox.retry_delay(50) <= 30 * 60
    private_gateway.start()
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert outbox.due_message_ids() == [message.pk]
    assert outbox.deliver(message.pk) == OutboxStatus.SENT
    message.refresh_from_db()
    assert message.attempts == 3 and message.error_code == "" and len(RECORDED["success"]) == 1


@pytest.mark.django_db
def test_a_message_abdm_never_took_fails_after_the_give_up_time(private_gateway, settings):
    message = _enqueue()
    private_gateway.stop()
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.ABDM_OUTBOX_GIVE_UP_HOURS, minutes=1)
    )
    assert outbox.deliver(message.pk) == OutboxStatus.FAILED
    message.refresh_from_db()
    assert message.error_code == "gave_up"
    assert message.state_label == "Failed: ABDM is not answering. Please try again in a minute."
    assert RECORDED["failure"] == [message.request_id]


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_message_send_it_once(sandbox):
    message = _enqueue()
    results = []

    def deliver():
        try:
            results.append(outbox.deliver(message.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    message.refresh_from_db()
    assert sorted(results, key=str) == [None, None, None, OutboxStatus.SENT]
    assert message.attempts == 1 and len(RECORDED["success"]) == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_message_after_the_commit_once(sandbox, celery_worker_process):
    with transaction.atomic():
        message = services.register_bridge_url(url="http://127.0.0.1:8000/worker-test")
        assert message is not None
    assert _wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT)
    message.refresh_from_db()
    assert message.attempts == 1
    assert BridgeRegistration.objects.get().url == "http://127.0.0.1:8000/worker-test"
    assert services.register_bridge_url(url="http://127.0.0.1:8000/worker-test") is None  # ABDM has it already


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_keeps_a_message_while_abdm_is_down_and_sends_it_when_it_is_back(private_gateway, tmp_path):
    url = private_gateway.url
    worker = start_celery_worker(
        tmp_path / "worker.log",
        extra_env={"ABDM_GATEWAY_URL": url, "ABDM_ABHA_URL": url + "/abha/api", "ABDM_HFR_URL": url + "/v4/int"},
    )
    try:
        private_gateway.stop()
        with transaction.atomic():
            message = services.register_bridge_url(url="http://127.0.0.1:8000/outage-test")
        assert _wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).attempts >= 1)
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING and message.next_attempt_at > timezone.now()
        private_gateway.start()
        # The retry the worker queued for itself (countdown = the backoff) sends it; nobody nudges it.
        assert _wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT, seconds=40)
        message.refresh_from_db()
        assert message.attempts == 2
        assert BridgeRegistration.objects.get().url == "http://127.0.0.1:8000/outage-test"
    finally:
        stop_celery_worker(worker)


@pytest.mark.django_db
def test_messages_for_a_subject_newest_first_and_the_status_tag(sandbox):
    district = District.objects.first()
    older = _enqueue(subject=district)
    newer = _enqueue(url="not a url", subject=district)
    _enqueue()  # about nothing
    assert list(outbox.messages_for(district)) == [newer, older]
    outbox.deliver(newer.pk)
    rendered = Template("{% load abdm_tags %}{% abdm_status subject %}").render(Context({"subject": district}))
    assert "Failed: " in rendered and "abdm-status--error" in rendered
    assert Template("{% load abdm_tags %}{% abdm_status subject %}").render(Context({"subject": None})) == ""


@pytest.mark.django_db
def test_admin_retry_now_and_abandon_are_audited_and_for_state_officials_only(sandbox):
    failed = _enqueue(url="not a url")
    outbox.deliver(failed.pk)
    waiting = _enqueue()
    official = StateOfficialFactory()
    browser = Client()
    browser.force_login(official)
    changelist = reverse("admin:abdm_outboxmessage_changelist")
    assert browser.get(changelist).status_code == 200

    response = browser.post(changelist, {"action": "retry_now", "_selected_action": [failed.pk]})
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.PENDING and failed.next_attempt_at is None
    assert AuditEvent.objects.filter(action="abdm.outbox_retry", target_id=str(failed.pk), actor=official).exists()

    browser.post(changelist, {"action": "abandon", "_selected_action": [waiting.pk]})
    waiting.refresh_from_db()
    assert waiting.status == OutboxStatus.ABANDONED and waiting.state_label == "Abandoned"
    assert AuditEvent.objects.filter(action="abdm.outbox_abandon", target_id=str(waiting.pk)).exists()
    assert RECORDED["failure"][-1] == waiting.request_id
    assert outbox.deliver(waiting.pk) is None  # an abandoned message is never sent

    outsider = Client()
    outsider.force_login(DistrictOfficerFactory())
    outsider.post(changelist, {"action": "abandon", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_callback_that_overtakes_the_answer_completes_the_message_and_the_late_answer_changes_nothing(
    sandbox, settings, silent_server
):
    client.session_token()  # from the sandbox; then the "gateway" answers the call itself too late
    settings.ABDM_GATEWAY_URL = silent_server
    settings.ABDM_TIMEOUT = 2
    message = outbox.enqueue(kind=TEST_KIND, method="POST", path="/api/v3/x", json={}, awaits_callback=True)
    results = []

    def deliver():
        try:
            results.append(outbox.deliver(message.pk))
        finally:
            connection.close()

    sending = threading.Thread(target=deliver)
    sending.start()
    assert _wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).attempts == 1, seconds=5)
    assert outbox.complete_from_callback(str(message.request_id), {"resp": {"requestId": "x"}}) is not None
    sending.join(timeout=10)
    message.refresh_from_db()
    assert results == [OutboxStatus.DONE]
    assert message.status == OutboxStatus.DONE and message.error_code == ""
    assert len(RECORDED["success"]) == 1
