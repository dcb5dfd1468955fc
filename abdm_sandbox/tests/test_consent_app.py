"""The sandbox's ABHA app pages (/sandbox/v1/app/): sign-in by ABHA address and an SMS OTP, the waiting request
allowed narrower or denied, a consent revoked, in English, Hindi and Gujarati; and requests expiring on their own."""

import re
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

from abdm_sandbox.testing import SandboxProcess, _database_url, _drop_database

from .conftest import CLIENTS
from .test_consent import HIU_ID, Network


@pytest.fixture
def network(sandbox):
    net = Network(sandbox)
    try:
        yield net
    finally:
        net.close()


def _signed_in(network: Network, language: str = "en") -> requests.Session:
    browser = requests.Session()
    home = network.sandbox.url + "/sandbox/v1/app/"
    first = browser.get(home, params={"lang": language}, timeout=10)
    assert first.status_code == 200 and 'name="abha_address"' in first.text
    asked = browser.post(home, data={"step": "otp", "abha_address": network.patient}, timeout=10)
    assert asked.status_code == 200, asked.text
    txn_id = re.search(r'name="txn_id" value="([^"]+)"', asked.text).group(1)
    wrong = browser.post(home, data={"step": "verify", "txn_id": txn_id, "otp": "000000"}, timeout=10)
    assert wrong.status_code == 400
    otp = network.sandbox.last_otp(network.mobile)
    verified = browser.post(home, data={"step": "verify", "txn_id": txn_id, "otp": otp}, timeout=10)
    assert verified.status_code == 200 and network.patient in verified.text
    return browser


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Sign in"), ("hi", "साइन इन करें"), ("gu", "સાઇન ઇન કરો")],
)
def test_the_sign_in_page_speaks_the_citizens_language(sandbox, language, words):
    page = requests.get(sandbox.url + "/sandbox/v1/app/", params={"lang": language}, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert f'<html lang="{language}">' in page.text
    assert words in page.text


def test_a_citizen_allows_a_request_narrower_in_hindi_and_revokes_it(network):
    consent_request_id = network.request_consent()
    browser = _signed_in(network, "hi")
    home = browser.get(network.sandbox.url + "/sandbox/v1/app/", timeout=10)
    assert "आपके उत्तर की प्रतीक्षा में अनुरोध" in home.text
    assert "State Hospital HIU आपके स्वास्थ्य रिकॉर्ड देखना चाहता है" in home.text
    page_url = f"{network.sandbox.url}/sandbox/v1/app/requests/{consent_request_id}"
    page = browser.get(page_url, timeout=10)
    assert page.status_code == 200
    assert "ओपीडी परामर्श" in page.text and "बिल" in page.text  # OPConsultation, Invoice
    allowed = browser.post(
        page_url,
        data={"action": "grant", "hi_type": ["Prescription"], "care_context": [f"{network.hip_id}|OPD-1"]},
        timeout=10,
    )
    assert allowed.status_code == 200, allowed.text
    assert "आपने अनुरोध की अनुमति दी।" in allowed.text
    [notified] = network.hiu_notifications(consent_request_id, "GRANTED")
    [artefact] = notified["consentArtefacts"]
    [hip_call] = network.hip_notifications(artefact["id"], "GRANTED")
    detail = hip_call["body"]["notification"]["consentDetail"]
    assert detail["hiTypes"] == ["Prescription"]
    assert detail["careContexts"] == [{"patientReference": "PAT-1", "careContextReference": "OPD-1"}]

    revoked = browser.post(f"{network.sandbox.url}/sandbox/v1/app/artefacts/{artefact['id']}/revoke-page", timeout=10)
    assert revoked.status_code == 200
    assert "आपने सहमति वापस ले ली।" in revoked.text
    assert network.hiu_notifications(consent_request_id, "REVOKED")


def test_a_citizen_denies_in_gujarati(network):
    consent_request_id = network.request_consent()
    browser = _signed_in(network, "gu")
    denied = browser.post(
        f"{network.sandbox.url}/sandbox/v1/app/requests/{consent_request_id}", data={"action": "deny"}, timeout=10
    )
    assert "તમે વિનંતી નામંજૂર કરી." in denied.text
    assert network.hiu_notifications(consent_request_id, "DENIED")


def test_pages_show_only_the_citizens_own_requests(network):
    consent_request_id = network.request_consent()
    stranger = requests.Session()
    page = stranger.get(f"{network.sandbox.url}/sandbox/v1/app/requests/{consent_request_id}", timeout=10)
    assert 'name="abha_address"' in page.text  # not signed in: back to sign-in
    browser = _signed_in(network)
    other = browser.get(f"{network.sandbox.url}/sandbox/v1/app/requests/{uuid.uuid4()}", timeout=10)
    assert "There is no such request." in other.text


@pytest.fixture
def quick_sandbox():
    """A sandbox whose requests expire after 3 seconds, swept every second."""
    database_url = _database_url(f"abdm_sandbox_consent_{uuid.uuid4().hex[:8]}")
    with tempfile.TemporaryDirectory(prefix="abdm-sandbox-consent-") as workdir:
        process = SandboxProcess(
            database_url=database_url,
            workdir=Path(workdir),
            env={
                "ABDM_SANDBOX_CLIENTS": ",".join(f"{key}:{value}" for key, value in CLIENTS.items()),
                "ABDM_SANDBOX_CONSENT_REQUEST_MINUTES": "0.05",
                "ABDM_SANDBOX_CONSENT_SWEEP_SECONDS": "1",
            },
        )
        process.start()
        try:
            yield process
        finally:
            process.stop()
            _drop_database(database_url)


def test_an_unanswered_request_expires_by_itself_and_the_hiu_is_told(quick_sandbox):
    net = Network(quick_sandbox)
    try:
        consent_request_id = net.request_consent()
        time.sleep(4)
        # Nobody touched the sandbox since: its sweep expired the request and notified the HIU.
        [notified] = net.hiu_notifications(consent_request_id, "EXPIRED")
        assert notified["consentArtefacts"] == []
        answer = quick_sandbox.post(f"app/consents/{consent_request_id}/grant", json={})
        assert answer.status_code == 409
        status = net.hiu.call(
            "POST",
            "/api/hiecm/consent/v3/request/status",
            json={"consentRequestId": consent_request_id},
            headers={"X-HIU-ID": HIU_ID},
        )
        assert status.status_code == 202
        [on_status] = net.hiu_server.wait("/api/v3/hiu/consent/request/on-status")
        assert on_status["body"]["consentRequest"]["status"] == "EXPIRED"
    finally:
        net.close()


def test_the_sms_link_opens_the_request_after_sign_in(network):
    consent_request_id = network.request_consent()
    [link] = [
        re.search(r"https?://\S+", m["text"]).group(0)
        for m in network.sandbox.messages(network.mobile)
        if consent_request_id in m["text"]
    ]
    assert link == f"{network.sandbox.url}/sandbox/v1/app/requests/{consent_request_id}"
    browser = requests.Session()
    first = browser.get(link, timeout=10)
    assert 'name="abha_address"' in first.text
    asked = browser.post(
        first.url,
        data={"step": "otp", "abha_address": network.patient, "next": f"/sandbox/v1/app/requests/{consent_request_id}"},
        timeout=10,
    )
    txn_id = re.search(r'name="txn_id" value="([^"]+)"', asked.text).group(1)
    next_path = re.search(r'name="next" value="([^"]+)"', asked.text).group(1)
    otp = network.sandbox.last_otp(network.mobile)
    page = browser.post(first.url, data={"step": "verify", "txn_id": txn_id, "otp": otp, "next": next_path}, timeout=10)
    assert page.url == link
    assert "State Hospital HIU asks to see your health records" in page.text
    assert 'value="grant"' in page.text and 'value="deny"' in page.text


def test_a_request_link_in_gujarati_keeps_gujarati_through_the_sign_in(sandbox):
    """The portal's "Answer in the ABHA app" link carries ?lang=; the sign-in page it leads to speaks that language."""
    page = requests.get(sandbox.url + "/sandbox/v1/app/requests/00000000-0000-0000-0000-000000000000",
                        params={"lang": "gu"}, timeout=10)  # fmt: skip
    assert page.status_code == 200 and 'name="abha_address"' in page.text
    assert "lang=gu" in page.url and '<html lang="gu">' in page.text and "સાઇન ઇન કરો" in page.text
