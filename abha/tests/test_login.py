"""Citizen sign-in through ABDM's login (the sandbox over HTTP): the OTP request answers the same for every identifier
and counts the attempt first; a verified transaction signs in once, to one of the ABHAs ABDM listed."""

import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse

from abha.models import OtpTransaction

from .conftest import new_mobile
from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]

LOGIN_OTP = "/api/v1/abha/login/otp/"
LOGIN_VERIFY = "/api/v1/abha/login/verify/"
LOGIN_RESEND = "/api/v1/abha/login/otp/resend/"
UNKNOWN_NUMBER = "91-1111-2222-3337"
MOBILE_MASK = re.compile(r"^[6-9]\dx{6}\d\d$")
NUMBER_MASK = re.compile(r"^\*{6}\d{4}$")


def _shape(response) -> tuple:
    body = response.json()
    return response.status_code, sorted(body), bool(re.fullmatch(r"[0-9a-f-]{36}", body["txn_id"]))


@pytest.fixture
def known(otp_api):
    body = otp_api.enrol(abha_address=f"asha.k{new_mobile()[-7:]}")
    return body


def test_unknown_identifiers_get_the_answer_known_ones_get_and_no_sms(otp_api, known):
    sandbox, mobile = otp_api.sandbox, known["person"].mobile
    for known_id, unknown_id, mask in (
        (known["abha_number"], UNKNOWN_NUMBER, NUMBER_MASK),
        (known["abha_address"], "nobody.here@sbx", NUMBER_MASK),
        (mobile, new_mobile(), MOBILE_MASK),
    ):
        sent = len(sandbox.messages(mobile))
        found = otp_api.post(LOGIN_OTP, {"login_id": known_id})
        assert found.status_code == 201, found.json()
        assert len(sandbox.messages(mobile)) == sent + 1  # ABDM sent the OTP to the ABHA's mobile
        missing = otp_api.post(LOGIN_OTP, {"login_id": unknown_id})
        assert _shape(missing) == _shape(found) == (201, ["mobile", "txn_id"], True)
        assert mask.match(missing.json()["mobile"]) and mask.match(found.json()["mobile"]), (missing, found)
    masks = {otp_api.post(LOGIN_OTP, {"login_id": "nobody.here@sbx"}).json()["mobile"] for _ in range(2)}
    assert len(masks) == 1  # the same made-up mask each time, as a real ABHA's mobile would be


def test_a_deleted_abha_is_answered_like_an_unknown_one_and_abdm_is_not_asked(otp_api):
    deleted = AbhaAccountFactory(status="deleted", mobile="9876500001")
    response = otp_api.post(LOGIN_OTP, {"login_id": deleted.abha_number})
    assert response.status_code == 201
    assert OtpTransaction.objects.get(uuid=response.json()["txn_id"]).abdm_txn_id == ""


def test_verify_on_an_unknown_identifiers_transaction_fails_like_a_wrong_otp_and_locks(otp_api, known):
    real = otp_api.post(LOGIN_OTP, {"login_id": known["abha_number"]}).json()["txn_id"]
    decoy = otp_api.post(LOGIN_OTP, {"login_id": UNKNOWN_NUMBER}).json()["txn_id"]
    wrong_on_real = otp_api.post(LOGIN_VERIFY, {"txn_id": real, "otp": "000000"})
    wrong_on_decoy = otp_api.post(LOGIN_VERIFY, {"txn_id": decoy, "otp": "000000"})
    assert wrong_on_decoy.status_code == wrong_on_real.status_code == 400
    assert wrong_on_decoy.json() == wrong_on_real.json()
    # Even the real account's OTP (or any other) never opens the made-up transaction; the fifth locks it.
    otp = otp_api.sandbox.last_otp(known["person"].mobile)
    for _ in range(3):
        assert otp_api.post(LOGIN_VERIFY, {"txn_id": decoy, "otp": otp}).status_code == 400
    locked = otp_api.post(LOGIN_VERIFY, {"txn_id": decoy, "otp": otp})
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "otp_locked"


def test_resend_on_an_unknown_identifiers_transaction_answers_alike(otp_api):
    decoy = otp_api.post(LOGIN_OTP, {"login_id": new_mobile()})
    txn = OtpTransaction.objects.get(uuid=decoy.json()["txn_id"])
    OtpTransaction.objects.filter(pk=txn.pk).update(sent_at=txn.sent_at - timedelta(seconds=61))
    resent = otp_api.post(LOGIN_RESEND, {"txn_id": decoy.json()["txn_id"]})
    assert resent.status_code == 200 and resent.json() == decoy.json()


def test_resend_asks_abdm_for_a_new_otp(otp_api, known):
    start = otp_api.post(LOGIN_OTP, {"login_id": known["abha_number"]}).json()
    txn = OtpTransaction.objects.get(uuid=start["txn_id"])
    too_soon = otp_api.post(LOGIN_RESEND, {"txn_id": start["txn_id"]})
    assert too_soon.status_code == 400 and too_soon.json()["error"]["code"] == "otp_resend_too_soon"
    OtpTransaction.objects.filter(pk=txn.pk).update(sent_at=txn.sent_at - timedelta(seconds=61))
    assert otp_api.post(LOGIN_RESEND, {"txn_id": start["txn_id"]}).status_code == 200
    otp = otp_api.sandbox.last_otp(known["person"].mobile)
    assert otp_api.post(LOGIN_VERIFY, {"txn_id": start["txn_id"], "otp": otp}).status_code == 200


@override_settings(OTP_MOBILE_RATE="2/hour")
def test_the_attempt_is_counted_per_identifier_before_answering_known_or_not(otp_api, known):
    for login_id in ("nobody.here@sbx", known["person"].mobile, known["abha_address"], new_mobile(), UNKNOWN_NUMBER):
        assert otp_api.post(LOGIN_OTP, {"login_id": login_id}).status_code == 201
        assert otp_api.post(LOGIN_OTP, {"login_id": login_id}).status_code == 201
        denied = otp_api.post(LOGIN_OTP, {"login_id": login_id})
        assert denied.status_code == 429 and denied.json()["error"]["code"] == "throttled", login_id


@override_settings(OTP_IP_RATE="3/hour")
def test_the_attempt_is_counted_per_address_for_unknown_identifiers_too(otp_api):
    for _ in range(3):
        assert otp_api.post(LOGIN_OTP, {"login_id": new_mobile()}).status_code == 201
    assert otp_api.post(LOGIN_OTP, {"login_id": new_mobile()}).status_code == 429


def test_the_sign_in_page_answers_alike_for_an_unknown_identifier(client):
    response = client.post(reverse("abha:signin"), {"login_id": "nobody.here@sbx"})
    assert response.status_code == 302 and response.url == reverse("abha:signin_otp")
    page = client.get(reverse("abha:signin_otp")).content.decode()
    assert "No ABHA was found" not in page
    wrong = client.post(reverse("abha:signin_otp"), {"otp": "123456"})
    assert wrong.status_code == 200 and "The OTP is not correct" in wrong.content.decode()


def test_sign_in_while_abdm_is_not_answering_says_so(client, private_abdm_sandbox, settings):
    sandbox = private_abdm_sandbox()
    settings.ABDM_GATEWAY_URL, settings.ABDM_ABHA_URL = sandbox.url, sandbox.url + "/abha/api"
    sandbox.stop()
    response = client.post(reverse("abha:signin"), {"login_id": "9876543210"})
    page = response.content.decode()
    assert response.status_code == 200 and "ABDM is not answering. Please try again in a minute." in page
    assert 'value="9876543210"' in page


# --- a verified transaction --------------------------------------------------------------------------


@pytest.fixture
def family(otp_api, resident):
    mobile = new_mobile()
    mother = otp_api.enrol(resident(mobile=mobile))
    son = otp_api.enrol(resident(mobile=mobile, name="Ravi Patel", gender="M"))
    return mobile, mother, son


def _listed(otp_api, mobile):
    txn_id = otp_api.post(LOGIN_OTP, {"login_id": mobile}).json()["txn_id"]
    otp = otp_api.sandbox.last_otp(mobile)
    listed = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": otp})
    assert listed.status_code == 200 and listed.json()["token"] is None
    return txn_id, otp


def test_the_choice_is_bound_to_the_accounts_abdm_listed(otp_api, family):
    mobile, _mother, son = family
    txn_id, otp = _listed(otp_api, mobile)
    other = AbhaAccountFactory(first_name="Other", mobile=mobile)  # known here, not listed by ABDM
    refused = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": otp, "abha_number": other.abha_number})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "choose_account"
    picked = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "abha_number": son["abha_number"]})
    assert picked.status_code == 200 and picked.json()["abha_number"] == son["abha_number"]


def test_a_transaction_signs_in_once(otp_api, family):
    mobile, mother, son = family
    txn_id, otp = _listed(otp_api, mobile)
    first = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": otp, "abha_number": mother["abha_number"]})
    assert first.status_code == 200 and first.json()["token"]
    for account in (mother, son):
        again = otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": otp, "abha_number": account["abha_number"]})
        assert again.status_code == 409 and again.json()["error"]["code"] == "txn_completed"
