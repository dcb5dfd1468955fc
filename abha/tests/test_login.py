"""Citizen sign-in (issue 15 items 4 and 7): the OTP request answers the same for every identifier and counts the
attempt first; a verified transaction signs in once, to one of the ABHAs it listed, and only with the OTP."""

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from abha.models import OtpTransaction

from .conftest import last_otp
from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]

LOGIN_OTP = "/api/v1/abha/login/otp/"
LOGIN_VERIFY = "/api/v1/abha/login/verify/"
LOGIN_RESEND = "/api/v1/abha/login/otp/resend/"
UNKNOWN_NUMBER = "91-1111-2222-3337"  # a valid Luhn digit, no ABHA
MASKED = re.compile(r"^[6-9]\dx{6}\d\d$")


def _shape(response) -> tuple:
    body = response.json()
    return response.status_code, sorted(body), bool(re.fullmatch(r"[0-9a-f-]{36}", body["txn_id"]))


@pytest.fixture
def known():
    account = AbhaAccountFactory(mobile="9876543210")
    account.addresses.create(local="asha.known")
    return account


def test_unknown_identifiers_get_the_answer_known_ones_get_and_no_sms(otp_api, sms_outbox, known):
    for known_id, unknown_id in (
        (known.abha_number, UNKNOWN_NUMBER),
        ("asha.known@sbx", "nobody.here@sbx"),
        ("9876543210", "9000000009"),
    ):
        sms_outbox.clear()
        found = otp_api.post(LOGIN_OTP, {"login_id": known_id})
        assert found.status_code == 201 and len(sms_outbox) == 1
        missing = otp_api.post(LOGIN_OTP, {"login_id": unknown_id})
        assert _shape(missing) == _shape(found) == (201, ["mobile", "txn_id"], True)
        assert MASKED.match(missing.json()["mobile"]) and MASKED.match(found.json()["mobile"])
        assert len(sms_outbox) == 1  # nothing sent for the unknown identifier
    masks = {otp_api.post(LOGIN_OTP, {"login_id": "nobody.here@sbx"}).json()["mobile"] for _ in range(2)}
    assert len(masks) == 1  # the same made-up mask each time, as a real ABHA's mobile would be


def test_a_deleted_abha_is_answered_like_an_unknown_one(otp_api, sms_outbox):
    deleted = AbhaAccountFactory(status="deleted", mobile="9876500001")
    response = otp_api.post(LOGIN_OTP, {"login_id": deleted.abha_number})
    assert response.status_code == 201 and sms_outbox == []


def test_verify_on_an_unknown_identifiers_transaction_fails_like_a_wrong_otp_and_locks(otp_api, sms_outbox, known):
    real = otp_api.post(LOGIN_OTP, {"login_id": known.abha_number}).json()["txn_id"]
    decoy = otp_api.post(LOGIN_OTP, {"login_id": UNKNOWN_NUMBER}).json()["txn_id"]
    wrong_on_real = otp_api.post(LOGIN_VERIFY, {"txn_id": real, "otp": "000000"})
    wrong_on_decoy = otp_api.post(LOGIN_VERIFY, {"txn_id": decoy, "otp": "000000"})
    assert wrong_on_decoy.status_code == wrong_on_real.status_code == 400
    assert wrong_on_decoy.json() == wrong_on_real.json()
    # Even the real account's OTP (or any other) never opens the made-up transaction; the fifth locks it.
    for _ in range(3):
        assert otp_api.post(LOGIN_VERIFY, {"txn_id": decoy, "otp": last_otp(sms_outbox)}).status_code == 400
    locked = otp_api.post(LOGIN_VERIFY, {"txn_id": decoy, "otp": last_otp(sms_outbox)})
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "otp_locked"


def test_resend_on_an_unknown_identifiers_transaction_answers_alike_and_sends_nothing(
    otp_api, sms_outbox, known, monkeypatch
):
    decoy = otp_api.post(LOGIN_OTP, {"login_id": "9000000009"})
    OtpTransaction.objects.filter(uuid=decoy.json()["txn_id"]).update(
        sent_at=OtpTransaction.objects.get(uuid=decoy.json()["txn_id"]).sent_at.replace(year=2000)
    )
    resent = otp_api.post(LOGIN_RESEND, {"txn_id": decoy.json()["txn_id"]})
    assert resent.status_code == 200 and resent.json() == decoy.json()
    assert sms_outbox == []


@override_settings(OTP_MOBILE_RATE="2/hour")
def test_the_attempt_is_counted_per_identifier_before_answering_known_or_not(otp_api, known):
    for login_id in ("nobody.here@sbx", "9876543210", "asha.known@sbx", "9000000009", UNKNOWN_NUMBER):
        assert otp_api.post(LOGIN_OTP, {"login_id": login_id}).status_code == 201
        assert otp_api.post(LOGIN_OTP, {"login_id": login_id}).status_code == 201
        denied = otp_api.post(LOGIN_OTP, {"login_id": login_id})
        assert denied.status_code == 429 and denied.json()["error"]["code"] == "throttled", login_id


@override_settings(OTP_IP_RATE="3/hour")
def test_the_attempt_is_counted_per_address_for_unknown_identifiers_too(otp_api):
    for mobile in ("9000000001", "9000000002", "9000000003"):
        assert otp_api.post(LOGIN_OTP, {"login_id": mobile}).status_code == 201
    assert otp_api.post(LOGIN_OTP, {"login_id": "9000000004"}).status_code == 429


@override_settings(OTP_MOBILE_RATE="2/hour")
def test_a_mobile_over_its_limit_gets_no_sms_through_its_abha_number_and_the_answer_does_not_change(
    otp_api, sms_outbox, known
):
    otp_api.post(LOGIN_OTP, {"login_id": "9876543210"})
    otp_api.post(LOGIN_OTP, {"login_id": "9876543210"})
    sms_outbox.clear()
    named = otp_api.post(LOGIN_OTP, {"login_id": known.abha_number})
    assert named.status_code == 201 and sms_outbox == []


def test_the_sign_in_page_answers_alike_for_an_unknown_identifier(client, sms_outbox, known):
    response = client.post(reverse("abha:signin"), {"login_id": "nobody.here@sbx"})
    assert response.status_code == 302 and response.url == reverse("abha:signin_otp")
    page = client.get(reverse("abha:signin_otp")).content.decode()
    assert "No ABHA was found" not in page
    wrong = client.post(reverse("abha:signin_otp"), {"otp": "123456"})
    assert wrong.status_code == 200 and "The OTP is not correct" in wrong.content.decode()
    assert sms_outbox == []


# --- item 7: a verified transaction ------------------------------------------------------------


@pytest.fixture
def family():
    return AbhaAccountFactory(first_name="Asha", mobile="9876543210"), AbhaAccountFactory(
        first_name="Ravi", mobile="9876543210"
    )


def _listed(otp_api, sms_outbox):
    txn_id = otp_api.post(LOGIN_OTP, {"login_id": "9876543210"}).json()["txn_id"]
    otp = last_otp(sms_outbox)
    listed = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": otp})
    assert listed.status_code == 200 and listed.json()["token"] is None
    return txn_id, otp


def test_a_verified_transaction_does_not_sign_in_with_a_wrong_otp(otp_api, sms_outbox, family):
    txn_id, _otp = _listed(otp_api, sms_outbox)
    for account in family:
        stolen = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": "000000", "abha_number": account.abha_number})
        assert stolen.status_code == 400 and stolen.json()["error"]["code"] == "otp_invalid"
        assert "token" not in stolen.json()


def test_a_verified_transaction_locks_after_wrong_otps(otp_api, sms_outbox, family):
    txn_id, otp = _listed(otp_api, sms_outbox)
    for _ in range(5):
        otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": "000000", "abha_number": family[0].abha_number})
    late = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": otp, "abha_number": family[0].abha_number})
    assert late.status_code == 409 and late.json()["error"]["code"] == "otp_locked"


def test_the_choice_is_bound_to_the_accounts_listed_at_verification(otp_api, sms_outbox, family):
    txn_id, otp = _listed(otp_api, sms_outbox)
    newcomer = AbhaAccountFactory(first_name="Late", mobile="9876543210")  # added to the mobile after the list
    other = AbhaAccountFactory(first_name="Other", mobile="9000000001")
    for outsider in (newcomer, other):
        refused = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": otp, "abha_number": outsider.abha_number})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "choose_account"
    picked = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": otp, "abha_number": family[1].abha_number})
    assert picked.status_code == 200 and picked.json()["abha_number"] == family[1].abha_number_display


def test_a_transaction_signs_in_once(otp_api, sms_outbox, family):
    txn_id, otp = _listed(otp_api, sms_outbox)
    first = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": otp, "abha_number": family[0].abha_number})
    assert first.status_code == 200 and first.json()["token"]
    for account in family:
        again = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": otp, "abha_number": account.abha_number})
        assert again.status_code == 409 and again.json()["error"]["code"] == "txn_completed"
