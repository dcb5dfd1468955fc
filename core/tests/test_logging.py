"""No ABHA number or address in any log the portal writes (core/logging.py): Django's and runserver's lines through
LOGGING's handler, the Celery worker's, and gunicorn's access log as Procfile.prod runs it."""

import io
import logging
import os
import shlex
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager

import pytest

from conftest import ROOT
from core.logging import redact

ABHA_NUMBERS = ["91-1234-5678-9012", "91123456789012", "91 1234 5678 9012", "91%201234%205678%209012"]
ABHA_ADDRESSES = ["asha.patel@sbx", "Asha_P1990@ABDM", "asha.patel%40sbx"]


@pytest.mark.parametrize("identifier", ABHA_NUMBERS + ABHA_ADDRESSES)
def test_abha_numbers_and_addresses_are_masked_in_every_shape(identifier):
    line = redact(f"GET /api/v1/abha/lookup/?id={identifier}&page=2 HTTP/1.1")
    assert identifier.casefold() not in line.casefold() and line.startswith("GET /api/v1/abha/lookup/?id=<abha_")


@pytest.mark.parametrize(
    "line",
    [
        "GET /records/artefacts/1f0e2c1a-3b4c-4d5e-8f90-123456789012/ 200",  # a UUID whose last group is digits
        "ABHA 91-XXXX-XXXX-9012 signed in at IN2410000123",  # a masked number, a facility id
        "SMS sent to 98xxxxxx10 in 1834 ms",
    ],
)
def test_ordinary_lines_are_left_alone(line):
    assert redact(line) == line


@contextmanager
def _console_output():
    """What LOGGING's console handler (the root's) writes, as text."""
    (console,) = [handler for handler in logging.getLogger().handlers if handler.name == "console"]
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        yield stream
    finally:
        console.setStream(previous)


def test_django_and_runserver_lines_are_masked_where_they_are_written():
    with _console_output() as output:
        # As runserver logs a request (django.core.servers.basehttp.WSGIRequestHandler.log_message).
        logging.getLogger("django.server").info(
            '"%s" %s %s', "GET /api/v1/abha/lookup/?id=91-1234-5678-9012 HTTP/1.1", "200", "35"
        )
        logging.getLogger("django.request").warning("Not Found: %s", "/abha/asha.patel@sbx/")
        try:
            raise ValueError("No ABHA 91123456789012")
        except ValueError:
            logging.getLogger("records").exception("Lookup of %s failed", "asha.patel%40sbx")
    written = output.getvalue()
    assert 'django.server: "GET /api/v1/abha/lookup/?id=<abha_number> HTTP/1.1" 200 35' in written
    assert "Not Found: /abha/<abha_address>/" in written
    assert "Lookup of <abha_address> failed" in written and "ValueError: No ABHA <abha_number>" in written
    for identifier in ("1234-5678", "91123456789012", "asha.patel"):
        assert identifier not in written


def test_the_celery_worker_keeps_logging_through_the_masking_handler():
    from config.celery import app

    root = logging.getLogger()
    handlers, level, already = list(root.handlers), root.level, app.log.already_setup
    app.log.already_setup = False
    try:
        app.log.setup_logging_subsystem(loglevel="INFO")  # what `celery worker` runs at start
        assert "console" in [handler.name for handler in root.handlers]
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        app.log.already_setup = already


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_as_procfile_prod_runs_it_logs_no_query_string_and_no_abha(tmp_path):
    """The web line of Procfile.prod, serving a stand-in app instead of the portal (the access log is gunicorn's)."""
    (web,) = [line for line in (ROOT / "Procfile.prod").read_text().splitlines() if line.startswith("web:")]
    command = web.removeprefix("web:").replace("config.wsgi", "core.tests.tiny_wsgi:app")
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "1"}
    with log_path.open("w") as log:
        server = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, shlex.quote(command)
                time.sleep(0.1)
        urls = [
            "/api/v1/abha/lookup/?id=91-1234-5678-9012",
            "/api/v1/abha/lookup/?id=asha.patel%40sbx",
            "/abha/asha.patel@sbx/",
        ]
        for url in urls:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{url}",
                headers={"Referer": "https://portal/records/patient/?patient=91123456789012"},
            )
            urllib.request.urlopen(request, timeout=5).read()  # noqa: S310 - http, to the server started here
        time.sleep(0.3)  # the access line is written after the answer
    finally:
        server.terminate()
        server.wait(timeout=10)
    written = log_path.read_text()
    assert '"GET /api/v1/abha/lookup/ HTTP/1.1" 200' in written and '"https://portal/records/patient/"' in written
    assert "GET /abha/<abha_address>/ HTTP/1.1" in written
    for leak in ("?id=", "?patient=", "1234-5678", "91123456789012", "asha.patel"):
        assert leak not in written, written
