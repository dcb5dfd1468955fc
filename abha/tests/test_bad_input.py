"""Bad input never gives a 500 or a half-created account, and messages follow the language."""

import pytest

from abha.models import AbhaAccount
from core.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]

JUNK = [None, "", " ", "0", "-1", "9" * 500, "<script>", "१२३४५६", "૧૨૩૪૫૬૭૮૯૦", [], {}, ["a"], {"a": 1}, 1.5, True]
ENDPOINTS = [
    "/api/v1/abha/enrolment/otp/",
    "/api/v1/abha/enrolment/otp/resend/",
    "/api/v1/abha/enrolment/verify/",
    "/api/v1/abha/enrolment/mobile/verify/",
    "/api/v1/abha/enrolment/complete/",
    "/api/v1/abha/login/otp/",
    "/api/v1/abha/login/verify/",
]
FIELDS = ["mobile", "consent_version", "txn_id", "otp", "login_id", "abha_number", "aadhaar", "abha_address"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_junk_in_every_field_is_a_4xx_in_the_error_shape(api_client, otp_api, path):
    txn_id, _person = otp_api.start()
    users = User.objects.count()
    for value in JUNK:
        body = dict.fromkeys(FIELDS, value)
        if path.endswith(("complete/", "verify/")):
            body = {**body, "txn_id": txn_id}
        response = api_client.post(path, body, format="json")
        assert 400 <= response.status_code < 500, (path, value, response.status_code)
        assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert User.objects.count() == users and not AbhaAccount.objects.exists()


def test_get_endpoints_with_junk_query_strings(api_client, otp_api):
    txn_id = otp_api.verified()
    otp_api.sandbox.get("health")  # (the sandbox is up: an ABDM refusal would be a 4xx too)
    for value in ["", "x" * 300, "%00", "../../etc", "' OR 1=1 --"]:
        for path in ("/api/v1/abha/enrolment/suggestions/", "/api/v1/abha/enrolment/address-check/"):
            response = api_client.get(path, {"txn_id": value, "abha_address": value, "year_of_birth": value})
            assert 400 <= response.status_code < 500
        response = api_client.get(
            "/api/v1/abha/enrolment/address-check/", {"txn_id": txn_id, "abha_address": value, "year_of_birth": value}
        )
        assert response.status_code == 200


def test_messages_follow_the_language_of_the_request(api_client):
    body = {"aadhaar": "123", "consent_version": "2025-04"}
    gu = api_client.post("/api/v1/abha/enrolment/otp/", body, format="json", HTTP_ACCEPT_LANGUAGE="gu")
    assert gu.json()["error"]["fields"]["aadhaar"] == ["આ આધાર નંબર માન્ય નથી. કૃપા કરી 12 અંક તપાસો."]
    hi = api_client.post("/api/v1/abha/enrolment/otp/", body, format="json", HTTP_ACCEPT_LANGUAGE="hi")
    assert "आधार नंबर" in hi.json()["error"]["fields"]["aadhaar"][0]
