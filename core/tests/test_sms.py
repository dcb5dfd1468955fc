import json
import logging

import pytest

from core import sms


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
