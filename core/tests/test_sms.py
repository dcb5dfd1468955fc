import json
import logging

import pytest

from core import sms, tasks
from core.tests.sms_backends import GatewayDown, GatewayFailsTwice, gateway_down


def test_mask_mobile():
    assert sms.mask_mobile("9876543210") == "98xxxxxx10"


def test_locmem_backend_keeps_messages(settings, sms_outbox):
    settings.SMS_BACKEND = "locmem"
    sms.send_sms(to="9876543210", text="Your OTP is 123456")
    assert sms_outbox[-1]["to"] == "9876543210" and "123456" in sms_outbox[-1]["text"]


def test_file_backend_appends_json_lines(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms" / "outbox.jsonl"
    sms.send_sms(to="9876543210", text="first")
    sms.send_sms(to="9123456780", text="दूसरा संदेश")
    lines = [json.loads(line) for line in settings.SMS_FILE_PATH.read_text(encoding="utf-8").splitlines()]
    assert [(line["to"], line["text"]) for line in lines] == [("9876543210", "first"), ("9123456780", "दूसरा संदेश")]
    assert all(line["at"] for line in lines)


def test_the_file_outbox_holding_otps_is_readable_by_its_owner_only(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms" / "outbox.jsonl"
    sms.send_sms(to="9876543210", text="Your OTP is 123456")
    assert settings.SMS_FILE_PATH.stat().st_mode & 0o777 == 0o600
    assert settings.SMS_FILE_PATH.parent.stat().st_mode & 0o777 == 0o700
    settings.SMS_FILE_PATH.chmod(0o644)  # an outbox written by an older version
    sms.send_sms(to="9876543210", text="Your OTP is 654321")
    assert settings.SMS_FILE_PATH.stat().st_mode & 0o777 == 0o600


def test_console_backend_prints(settings, capsys):
    settings.SMS_BACKEND = "console"
    settings.DEBUG = True
    sms.send_sms(to="9876543210", text="hello")
    assert "SMS to 9876543210: hello" in capsys.readouterr().out


def test_console_backend_shows_no_text_or_number_with_debug_off(settings, capsys):
    settings.SMS_BACKEND = "console"
    settings.DEBUG = False
    sms.send_sms(to="9876543210", text="482913 is your ABHA OTP")
    out = capsys.readouterr().out
    assert "482913" not in out and "9876543210" not in out
    assert "98xxxxxx10" in out


def test_otp_text_is_not_logged_even_at_debug(settings, caplog):
    settings.SMS_BACKEND = "locmem"
    with caplog.at_level(logging.DEBUG, logger="core.sms"):
        sms.send_sms(to="9876543210", text="Your OTP is 482913")
    assert "482913" not in caplog.text
    assert "9876543210" not in caplog.text
    assert "98xxxxxx10" in caplog.text


def test_http_backend_refuses_a_missing_or_non_http_url(settings):
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = "file:///etc/passwd"
    with pytest.raises(sms.SmsDeliveryError):
        sms.send_sms(to="9876543210", text="x")


def test_http_backend_posts_to_the_gateway(settings):
    """A real HTTP gateway on loopback receives the JSON body and the bearer token."""
    import http.server
    import threading

    received = {}

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received["body"] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received["auth"] = self.headers["Authorization"]
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            """Keep the test output clean (BaseHTTPRequestHandler logs every request to stderr)."""

    server = http.server.HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_HTTP_TOKEN = "gateway-token"
    sms.send_sms(to="9876543210", text="hello")
    thread.join(5)
    server.server_close()
    assert received == {
        "body": {"to": "9876543210", "text": "hello", "sender": settings.SMS_HTTP_SENDER},
        "auth": "Bearer gateway-token",
    }


def test_http_backend_reports_an_unreachable_gateway(settings):
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/send"  # discard port: nothing listens
    settings.SMS_HTTP_TIMEOUT = 2
    with pytest.raises(sms.SmsDeliveryError):
        sms.send_sms(to="9876543210", text="x")


def test_http_backend_reports_a_connection_reset_while_reading_the_answer(settings, monkeypatch):
    """urlopen wraps connection errors in URLError, but not a reset while reading the answer: still ours."""

    def reset(*args, **kwargs):
        raise ConnectionResetError("Connection reset by peer")

    monkeypatch.setattr(sms.urllib.request, "urlopen", reset)
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/send"
    with pytest.raises(sms.SmsDeliveryError):
        sms.send_sms(to="9876543210", text="x")


# --- send_on_commit and the core.sms_send retry task --------------------------------------


@pytest.mark.django_db
def test_send_on_commit_sends_only_after_the_commit(sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sms.send_on_commit(to="9876543210", text="Your OTP is 482913")
        assert sms_outbox == []
    assert len(callbacks) == 1 and [m["to"] for m in sms_outbox] == ["9876543210"]


@pytest.mark.django_db
def test_a_gateway_error_after_commit_is_logged_masked_and_retried_in_the_background(
    settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    queued = gateway_down(settings, monkeypatch)
    with caplog.at_level(logging.DEBUG), django_capture_on_commit_callbacks(execute=True):
        sms.send_on_commit(to="9876543210", text="482913 is your ABHA OTP")  # raises nothing
    assert "98xxxxxx10 not delivered (Gateway answered 503.)" in caplog.text
    assert "482913" not in caplog.text and "9876543210" not in caplog.text
    [retry] = queued
    assert (retry["to"], retry["text"], retry["countdown"]) == ("9876543210", "482913 is your ABHA OTP", 5)
    assert "482913" not in retry["kwargsrepr"] and "9876543210" not in retry["kwargsrepr"]


@pytest.mark.django_db
def test_any_backend_failure_after_commit_is_retried_and_names_only_its_class(
    settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    queued = gateway_down(settings, monkeypatch)

    def broken(to, text):
        raise ValueError(f"cannot encode {text}")

    monkeypatch.setattr(GatewayDown, "send", lambda self, to, text: broken(to, text))
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        sms.send_on_commit(to="9876543210", text="482913 is your ABHA OTP")
    assert "not delivered (ValueError)" in caplog.text and "482913" not in caplog.text
    assert len(queued) == 1


@pytest.mark.django_db
def test_an_unreachable_broker_drops_the_retry_with_a_warning(
    settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    import kombu.exceptions

    gateway_down(settings, monkeypatch)

    def refused(**kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(tasks.sms_send, "apply_async", refused)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        sms.send_on_commit(to="9876543210", text="482913 is your ABHA OTP")
    assert "SMS to 98xxxxxx10 dropped: the broker is unreachable (OperationalError)" in caplog.text


def test_the_retry_task_sends_again_until_the_gateway_answers(settings, sms_outbox, monkeypatch):
    settings.SMS_BACKEND = "core.tests.sms_backends.GatewayFailsTwice"
    monkeypatch.setattr(GatewayFailsTwice, "failures", 0)
    tasks.sms_send.apply(kwargs={"to": "9876543210", "text": "482913 is your ABHA OTP"})
    assert GatewayFailsTwice.failures == 2
    assert [(m["to"], m["text"]) for m in sms_outbox] == [("9876543210", "482913 is your ABHA OTP")]


def test_the_retry_task_gives_up_after_its_retries_with_a_warning(settings, caplog):
    settings.SMS_BACKEND = "core.tests.sms_backends.GatewayDown"
    with caplog.at_level(logging.WARNING, logger="core.tasks"):
        result = tasks.sms_send.apply(kwargs={"to": "9876543210", "text": "482913 is your ABHA OTP"})
    assert result.successful()
    assert "SMS to 98xxxxxx10 dropped after 4 tries: Gateway answered 503." in caplog.text
    assert "482913" not in caplog.text


def test_the_retry_task_backs_off_and_keeps_the_text_out_of_its_arguments_repr(settings, monkeypatch):
    settings.SMS_BACKEND = "core.tests.sms_backends.GatewayDown"
    retries = []

    def retry(**options):
        retries.append(options)
        raise RuntimeError("stop here")  # a worker would queue the retry message

    monkeypatch.setattr(tasks.sms_send, "retry", retry)
    tasks.sms_send.apply(kwargs={"to": "9876543210", "text": "482913 is your ABHA OTP"})
    [options] = retries
    assert options["countdown"] == 10
    assert "482913" not in options["kwargsrepr"] and "98xxxxxx10" in options["kwargsrepr"]


@pytest.mark.django_db
def test_a_team_invite_stands_when_the_sms_gateway_is_down(
    settings, monkeypatch, api_as, django_capture_on_commit_callbacks
):
    from core.enums import Role
    from facilities.enums import MembershipRole
    from facilities.models import Invitation
    from facilities.tests.factories import FacilityFactory, MembershipFactory

    retries = gateway_down(settings, monkeypatch)
    facility = FacilityFactory()
    admin = MembershipFactory(facility=facility, role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN).user
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(admin).post(
            f"/api/v1/facilities/{facility.uuid}/team/",
            {"role": "staff", "mobile": "9898012345", "name": "Rina Shah"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    assert Invitation.objects.pending().filter(facility=facility, mobile="9898012345").exists()
    assert [retry["to"] for retry in retries] == ["9898012345"]
