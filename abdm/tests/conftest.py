"""Fixtures of the abdm app's tests: the portal pointed at the local ABDM sandbox (real HTTP, no mocks)."""

import socket
import threading

import pytest
from django.utils import translation

from abdm import client


@pytest.fixture(autouse=True)
def _english():
    """Each test starts in English: a page request of an earlier test leaves its language active in the thread."""
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def sandbox(abdm_sandbox, settings):
    """The shared sandbox, with the portal's ABDM settings pointing at it and no cached session token."""
    settings.ABDM_GATEWAY_URL = abdm_sandbox.url
    settings.ABDM_ABHA_URL = abdm_sandbox.url + "/abha/api"
    settings.ABDM_HFR_URL = abdm_sandbox.url + "/v4/int"
    client.forget_session_token()
    return abdm_sandbox


@pytest.fixture
def private_gateway(private_abdm_sandbox, settings):
    """A sandbox of this test's own (to stop and start), with the portal's ABDM settings pointing at it."""
    url = private_abdm_sandbox.url
    settings.ABDM_GATEWAY_URL = url
    settings.ABDM_ABHA_URL = url + "/abha/api"
    settings.ABDM_HFR_URL = url + "/v4/int"
    client.forget_session_token()
    return private_abdm_sandbox


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers: its URL (for timeouts)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            accepted.append(connection)  # held open, never answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for connection in accepted:
        connection.close()
    listener.close()
