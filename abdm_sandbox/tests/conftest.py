"""The sandbox's own tests: over HTTP only, against a sandbox started for them (its own database and API
clients), so moving a bridge URL here never disturbs the sandbox the portal's tests share."""

import datetime
import tempfile
import uuid
from pathlib import Path

import pytest
import requests

from abdm_sandbox.testing import SandboxProcess, _database_url, _drop_database

CLIENTS = {"state-portal": "sandbox-secret", "test-bridge": "test-secret", "other-bridge": "other-secret"}


@pytest.fixture(scope="session")
def sandbox():
    database_url = _database_url(f"abdm_sandbox_selftest_{uuid.uuid4().hex[:8]}")
    with tempfile.TemporaryDirectory(prefix="abdm-sandbox-tests-") as workdir:
        process = SandboxProcess(
            database_url=database_url,
            workdir=Path(workdir),
            env={"ABDM_SANDBOX_CLIENTS": ",".join(f"{key}:{value}" for key, value in CLIENTS.items())},
        )
        process.start()
        try:
            yield process
        finally:
            process.stop()
            _drop_database(database_url)


def timestamp(moment: datetime.datetime | None = None) -> str:
    moment = moment or datetime.datetime.now(datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def standard_headers(**extra) -> dict:
    return {"REQUEST-ID": str(uuid.uuid4()), "TIMESTAMP": timestamp(), "X-CM-ID": "sbx", **extra}


def session_token(sandbox, client_id: str = "test-bridge") -> str:
    answer = requests.post(
        sandbox.url + "/api/hiecm/gateway/v3/sessions",
        json={"clientId": client_id, "clientSecret": CLIENTS[client_id], "grantType": "client_credentials"},
        headers=standard_headers(),
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["accessToken"]


class Gateway:
    """A signed-in client of the sandbox's gateway, HFR and HPR."""

    def __init__(self, sandbox, client_id: str = "test-bridge"):
        self.sandbox = sandbox
        self.client_id = client_id
        self.token = session_token(sandbox, client_id)

    def call(self, method: str, path: str, *, headers: dict | None = None, standard: bool = True, **kwargs):
        sent = {"Authorization": f"Bearer {self.token}", **(standard_headers() if standard else {}), **(headers or {})}
        return requests.request(method, self.sandbox.url + path, headers=sent, timeout=10, **kwargs)


@pytest.fixture
def gateway(sandbox):
    return Gateway(sandbox)
