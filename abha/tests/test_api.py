"""The ABHA API contract of issue 3 item 10, with owner / other citizen / staff / anonymous checks."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from abha.models import AbhaAccount, AbhaAddress, OtpTransaction
from abha.services import MAX_ABHA_PER_MOBILE
from core.enums import Role
from core.models import AuditEvent, User
from core.tests.factories import StateOfficialFactory, UserFactory
from core.tests.sms_backends import gateway_down
from facilities.enums import MembershipRole
from facilities.models import FacilityMembership
from facilities.tests.factories import FacilityFactory

from .conftest import AADHAAR, DETAILS, OTHER_AADHAAR, last_otp
from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]


def test_enrolment_end_to_end_creates_account_user_and_addresses(otp_api, sms_outbox):
    txn_id = otp_api.start("9876543210")
    assert sms_outbox[-1]["to"] == "9876543210"
    otp = last_otp(sms_outbox)
    assert not OtpTransaction.objects.filter(otp_hash__contains=otp).exists()  # stored only as a hash

    verify = otp_api.post("/api/v1/abha/enrolment/verify/", {"txn_id": txn_id, "otp": otp})
    assert verify.status_code == 200 and verify.json()["verified"] is True

    suggestions = otp_api.client.get(
        "/api/v1/abha/enrolment/suggestions/", {"txn_id": txn_id, "first_name": "Asha", "year_of_birth": 1990}
    )
    assert suggestions.status_code == 200
    assert len(suggestions.json()["suggestions"]) >= 3
    assert all(s.endswith("@sbx") for s in suggestions.json()["suggestions"])
    chosen = suggestions.json()["suggestions"][0]

    response = otp_api.complete(txn_id, abha_address=chosen, aadhaar=AADHAAR, email="asha@example.org")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["abha_address"] == chosen
    assert len(body["abha_addresses"]) == 2
    assert body["aadhaar"] == "XXXX-XXXX-2346"
    assert body["dob"] == "23/5/1990"
    number = body["abha_number"].replace("-", "")
    assert f"{number}@sbx" in body["abha_addresses"]
    account = AbhaAccount.objects.get(abha_number=number)
    assert account.user.role == Role.CITIZEN and account.user.username == number
    assert not account.user.has_usable_password()
    assert account.channel == "self" and account.district_id == 443 and account.consent_version == "2025-04"
    assert AuditEvent.objects.filter(action="abha.enrol", target_id=str(account.uuid)).exists()

    again = otp_api.complete(txn_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "txn_completed"


def test_complete_without_verified_otp_is_refused(otp_api):
    txn_id = otp_api.start()
    response = otp_api.complete(txn_id)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "otp_not_verified"
    assert not AbhaAccount.objects.exists()


def test_wrong_consent_version_and_bad_mobile(api_client):
    bad = api_client.post("/api/v1/abha/enrolment/otp/", {"mobile": "98765", "consent_version": "2025-04"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["mobile"] == ["Enter a 10-digit mobile number starting with 6, 7, 8 or 9."]
    old = api_client.post("/api/v1/abha/enrolment/otp/", {"mobile": "9876543210", "consent_version": "2019-01"})
    assert old.status_code == 400 and old.json()["error"]["code"] == "consent_required"
    empty = api_client.post("/api/v1/abha/enrolment/otp/", {}, format="json")
    assert set(empty.json()["error"]["fields"]) == {"mobile", "consent_version"}


def test_wrong_otp_counts_down_then_locks(otp_api, sms_outbox):
    txn_id = otp_api.start()
    for left in (4, 3, 2, 1):
        response = otp_api.post("/api/v1/abha/enrolment/verify/", {"txn_id": txn_id, "otp": "000000"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "otp_invalid"
        assert f"Attempts left: {left}" in response.json()["error"]["message"]
    fifth = otp_api.post("/api/v1/abha/enrolment/verify/", {"txn_id": txn_id, "otp": "000000"})
    assert fifth.status_code == 409 and fifth.json()["error"]["code"] == "otp_locked"
    # Locked even for the right OTP now.
    txn = OtpTransaction.objects.get(uuid=txn_id)
    assert txn.failed_attempts == 5
    right = otp_api.post("/api/v1/abha/enrolment/verify/", {"txn_id": txn_id, "otp": last_otp(sms_outbox)})
    assert right.json()["error"]["code"] == "otp_locked"


def test_otp_expires_after_ten_minutes(otp_api, sms_outbox):
    txn_id = otp_api.start()
    OtpTransaction.objects.filter(uuid=txn_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = otp_api.post("/api/v1/abha/enrolment/verify/", {"txn_id": txn_id, "otp": last_otp(sms_outbox)})
    assert response.status_code == 400 and response.json()["error"]["code"] == "otp_expired"


def test_resend_waits_60_seconds_and_stops_after_three(otp_api, sms_outbox):
    txn_id = otp_api.start()
    too_soon = otp_api.post("/api/v1/abha/enrolment/otp/resend/", {"txn_id": txn_id})
    assert too_soon.status_code == 400 and too_soon.json()["error"]["code"] == "otp_resend_too_soon"
    first_otp = last_otp(sms_outbox)
    for _ in range(3):
        OtpTransaction.objects.filter(uuid=txn_id).update(sent_at=timezone.now() - timedelta(seconds=61))
        assert otp_api.post("/api/v1/abha/enrolment/otp/resend/", {"txn_id": txn_id}).status_code == 200
    assert len(sms_outbox) == 4
    OtpTransaction.objects.filter(uuid=txn_id).update(sent_at=timezone.now() - timedelta(seconds=61))
    fourth = otp_api.post("/api/v1/abha/enrolment/otp/resend/", {"txn_id": txn_id})
    assert fourth.status_code == 409 and fourth.json()["error"]["code"] == "otp_resend_limit"
    # Only the newest OTP works.
    newest = last_otp(sms_outbox)
    if newest != first_otp:
        stale = otp_api.post("/api/v1/abha/enrolment/verify/", {"txn_id": txn_id, "otp": first_otp})
        assert stale.json()["error"]["code"] == "otp_invalid"
    ok = otp_api.post("/api/v1/abha/enrolment/verify/", {"txn_id": txn_id, "otp": newest})
    assert ok.status_code == 200


@override_settings(OTP_MOBILE_RATE="2/hour")
def test_otp_requests_are_throttled_per_mobile(otp_api):
    otp_api.start("9876543210")
    otp_api.start("9876543210")
    third = otp_api.post("/api/v1/abha/enrolment/otp/", {"mobile": "9876543210", "consent_version": "2025-04"})
    assert third.status_code == 429 and third.json()["error"]["code"] == "throttled"
    otp_api.start("9876543211")  # another mobile is not affected


@override_settings(OTP_IP_RATE="3/hour")
def test_otp_requests_are_throttled_per_ip(otp_api):
    for mobile in ("9876543210", "9876543211", "9876543212"):
        otp_api.start(mobile)
    fourth = otp_api.post("/api/v1/abha/enrolment/otp/", {"mobile": "9876543213", "consent_version": "2025-04"})
    assert fourth.status_code == 429


def test_seventh_abha_on_a_mobile_is_refused_at_the_mobile_step(otp_api):
    AbhaAccountFactory.create_batch(MAX_ABHA_PER_MOBILE - 1, mobile="9876543210")
    otp_api.enrol("9876543210")  # the 6th is fine
    response = otp_api.post("/api/v1/abha/enrolment/otp/", {"mobile": "9876543210", "consent_version": "2025-04"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "mobile_limit"
    assert "6 ABHAs" in response.json()["error"]["message"]
    assert AbhaAccount.objects.filter(mobile="9876543210").count() == 6


def test_duplicate_aadhaar_is_a_409_and_creates_nothing(otp_api):
    otp_api.enrol("9876543210", aadhaar=AADHAAR)
    accounts, users = AbhaAccount.objects.count(), User.objects.count()
    response = otp_api.complete(otp_api.verified("9876543211"), aadhaar="2341 2341 2346")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "aadhaar_has_abha"
    assert "Sign in" in response.json()["error"]["message"]
    assert (AbhaAccount.objects.count(), User.objects.count()) == (accounts, users)
    otp_api.enrol("9876543212", aadhaar=OTHER_AADHAAR)


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"aadhaar": "234123412345"}, "aadhaar", "This Aadhaar number is not valid"),
        ({"year_of_birth": 2999}, "year_of_birth", "cannot be in the future"),
        ({"year_of_birth": "19x0"}, "year_of_birth", "4 digits"),
        ({"district_lgd": 99999}, "district_lgd", "Choose a district"),
        ({"state_lgd": 27}, "state_lgd", "not in the chosen state"),
        ({"gender": "Z"}, "gender", "Choose a gender"),
        ({"month_of_birth": 2, "day_of_birth": 30}, "day_of_birth", "does not exist"),
        ({"month_of_birth": "", "day_of_birth": 3}, "month_of_birth", "month too"),
        ({"pincode": "012345"}, "pincode", "6-digit pincode"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"first_name": ""}, "first_name", "required"),
        ({"abha_address": "ab"}, "abha_address", "8 to 18"),
    ],
)
def test_bad_details_get_a_clear_message_per_field(otp_api, overrides, field, message):
    response = otp_api.complete(otp_api.verified(), **overrides)
    assert response.status_code == 400, response.json()
    assert message in " ".join(response.json()["error"]["fields"][field])
    assert not AbhaAccount.objects.exists()


def test_gender_aliases_and_partial_birth_date(otp_api):
    body = otp_api.enrol(gender="T", month_of_birth=None, day_of_birth=None)
    assert body["gender"] == "O" and body["dob"] == "1990"


def test_taken_address_is_refused_case_insensitively(otp_api):
    otp_api.enrol("9876543210", abha_address="asha.patel@sbx")
    txn_id = otp_api.verified("9876543211")
    check = otp_api.client.get(
        "/api/v1/abha/enrolment/address-check/", {"txn_id": txn_id, "abha_address": "Asha.Patel"}
    )
    assert check.json()["available"] is False
    response = otp_api.complete(txn_id, abha_address="ASHA.PATEL")
    assert response.status_code == 409 and response.json()["error"]["code"] == "abha_address_taken"
    free = otp_api.client.get("/api/v1/abha/enrolment/address-check/", {"txn_id": txn_id, "abha_address": "asha.p1990"})
    assert free.json() == {
        "abha_address": "asha.p1990@sbx",
        "available": True,
        "message": "This ABHA address is available.",
    }


def test_suggestions_need_a_verified_transaction(otp_api, api_client):
    txn_id = otp_api.start()
    assert api_client.get("/api/v1/abha/enrolment/suggestions/", {"txn_id": txn_id}).status_code == 400
    assert api_client.get("/api/v1/abha/enrolment/suggestions/", {"txn_id": "nope"}).status_code == 404


def test_sign_in_by_number_address_and_mobile_gives_a_token(otp_api, api_client):
    body = otp_api.enrol(abha_address="asha.patel")
    for login_id in (body["abha_number"], body["abha_number"].replace("-", ""), "Asha.Patel@sbx", "9876543210"):
        response = otp_api.sign_in(login_id)
        assert response.status_code == 200, response.json()
        token = response.json()["token"]
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        me = api_client.get("/api/v1/abha/me/")
        assert me.status_code == 200 and me.json()["abha_number"] == body["abha_number"]
    assert AuditEvent.objects.filter(action="abha.sign_in").count() == 4


def test_sign_in_on_a_shared_mobile_picks_one_abha(otp_api, sms_outbox):
    first = otp_api.enrol("9876543210")
    second = otp_api.enrol("9876543210", first_name="Ravi", gender="M")
    start = otp_api.post("/api/v1/abha/login/otp/", {"login_id": "9876543210"})
    txn_id, otp = start.json()["txn_id"], last_otp(sms_outbox)
    choose = otp_api.post("/api/v1/abha/login/verify/", {"txn_id": txn_id, "otp": otp})
    assert choose.status_code == 200 and choose.json()["token"] is None
    assert {a["abha_number"] for a in choose.json()["accounts"]} == {first["abha_number"], second["abha_number"]}
    picked = otp_api.post(
        "/api/v1/abha/login/verify/", {"txn_id": txn_id, "otp": otp, "abha_number": second["abha_number"]}
    )
    assert picked.status_code == 200 and picked.json()["abha_number"] == second["abha_number"]
    replay = otp_api.post("/api/v1/abha/login/verify/", {"txn_id": txn_id, "otp": otp})
    assert replay.status_code == 409  # an OTP signs in once


def test_sign_in_errors(otp_api, sms_outbox):
    # An unknown or deleted ABHA is answered like a known one, and nothing is sent (test_login.py has the detail).
    unknown = otp_api.post("/api/v1/abha/login/otp/", {"login_id": "nobody.here"})
    assert unknown.status_code == 201
    deleted = AbhaAccountFactory(status="deleted")
    gone = otp_api.post("/api/v1/abha/login/otp/", {"login_id": deleted.abha_number})
    assert gone.status_code == 201 and sms_outbox == []
    empty = otp_api.post("/api/v1/abha/login/otp/", {"login_id": "@sbx"})
    assert empty.status_code == 400 and "login_id" in empty.json()["error"]["fields"]


# --- me, card, lookup: owner / other citizen / staff / anonymous -----------------------------


@pytest.fixture
def owner():
    return AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9876543210")


@pytest.mark.parametrize("path", ["/api/v1/abha/me/", "/api/v1/abha/me/card.png", "/api/v1/abha/me/card.pdf"])
def test_me_endpoints_answer_only_about_the_caller(api_as, api_client, owner, path):
    other = AbhaAccountFactory(first_name="Ravi", mobile="9876500000")
    mine = api_as(owner.user).get(path)
    assert mine.status_code == 200
    theirs = api_as(other.user).get(path)
    assert theirs.status_code == 200 and theirs.content != mine.content  # each sees only their own
    staff = api_as(UserFactory(role=Role.FACILITY_STAFF)).get(path)
    assert staff.status_code == 403 and staff.json()["error"]["code"] == "permission_denied"
    assert api_as(StateOfficialFactory()).get(path).status_code == 403
    assert api_client.get(path).status_code == 401


def test_me_shows_the_profile(api_as, owner):
    body = api_as(owner.user).get("/api/v1/abha/me/").json()
    assert body["name"] == "Asha Patel" and body["district_name"] == "Bhavnagar"
    assert body["abha_address"] == f"{owner.abha_number}@sbx"
    assert "aadhaar_hash" not in body


def test_card_downloads_have_the_right_types(api_as, owner):
    client = api_as(owner.user)
    png = client.get("/api/v1/abha/me/card.png")
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    pdf = client.get("/api/v1/abha/me/card.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf.content.count(b"/Type /Page\n") + pdf.content.count(b"/Type /Page ") <= 1 or b"/Count 1" in pdf.content


@pytest.fixture
def facility_staff():
    staff = UserFactory(role=Role.FACILITY_STAFF)
    FacilityMembership.objects.create(user=staff, facility=FacilityFactory(), role=MembershipRole.STAFF)
    return staff


def test_lookup_by_number_or_address_for_facility_staff_is_audited(api_as, owner, facility_staff):
    AbhaAddress.objects.create(account=owner, local="asha.patel90")
    client = api_as(facility_staff)
    for identifier in (owner.abha_number_display, owner.abha_number, "Asha.Patel90@sbx"):
        response = client.get("/api/v1/abha/lookup/", {"id": identifier})
        assert response.status_code == 200, response.json()
        assert response.json()["abha_number"] == owner.abha_number_display
        assert set(response.json()) == {
            "abha_number", "abha_address", "name", "gender", "year_of_birth", "district_lgd", "status",
        }  # fmt: skip
    assert AuditEvent.objects.filter(action="abha.lookup", actor=facility_staff).count() == 3
    missing = client.get("/api/v1/abha/lookup/", {"id": "nobody.at.all"})
    assert missing.status_code == 404
    assert AuditEvent.objects.filter(action="abha.lookup_miss").count() == 1
    assert client.get("/api/v1/abha/lookup/").status_code == 400


def test_lookup_is_refused_to_citizens_officials_without_facility_and_anonymous(api_as, api_client, owner):
    path = f"/api/v1/abha/lookup/?id={owner.abha_number}"
    assert api_as(owner.user).get(path).status_code == 403
    assert api_as(AbhaAccountFactory(mobile="9000000000").user).get(path).status_code == 403
    assert api_as(UserFactory(role=Role.FACILITY_STAFF)).get(path).status_code == 403  # no facility
    assert api_client.get(path).status_code == 401


def test_assisted_enrolment_records_who_and_where(otp_api, api_as, facility_staff, sms_outbox):
    facility = facility_staff.memberships.get().facility
    staff_client = api_as(facility_staff)
    start = otp_api.post(
        "/api/v1/abha/enrolment/otp/",
        {"mobile": "9876543210", "consent_version": "2025-04", "facility_id": facility.facility_id},
        client=staff_client,
    )
    assert start.status_code == 201, start.json()
    txn_id = start.json()["txn_id"]
    otp_api.post("/api/v1/abha/enrolment/verify/", {"txn_id": txn_id, "otp": last_otp(sms_outbox)}, staff_client)
    done = otp_api.complete(txn_id, client=staff_client)
    assert done.status_code == 201
    account = AbhaAccount.objects.get()
    assert (account.channel, account.assisted_by, account.assisted_facility) == ("assisted", facility_staff, facility)
    # Someone from another facility cannot claim this facility.
    outsider = api_as(UserFactory(role=Role.FACILITY_STAFF))
    refused = outsider.post(
        "/api/v1/abha/enrolment/otp/",
        {"mobile": "9876543211", "consent_version": "2025-04", "facility_id": facility.facility_id},
        format="json",
    )
    assert refused.status_code == 403


def test_details_in_the_response_match_what_was_sent(otp_api):
    body = otp_api.enrol()
    for key in ("first_name", "last_name", "gender", "year_of_birth", "address", "pincode"):
        assert body[key] == DETAILS[key]


def test_lookup_does_not_find_deactivated_or_deleted_abhas(api_as, facility_staff):
    client = api_as(facility_staff)
    for status in ("deactivated", "deleted"):
        account = AbhaAccountFactory(status=status, mobile="9000000009")
        assert client.get("/api/v1/abha/lookup/", {"id": account.abha_number}).status_code == 404


def test_lookups_use_the_indexes(owner):
    """Look-up by number and by address must be index scans (p99 < 10 ms at 1 crore accounts)."""
    from django.db import connection

    from abha.models import AbhaAddress as Address

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    by_address = Address.objects.named("Asha.Patel90").only("account_id").explain()
    assert "abha_address_unique_ci" in by_address
    by_number = AbhaAccount.objects.filter(abha_number=owner.abha_number).explain()
    assert "abha_abhaaccount_abha_number" in by_number
    by_mobile = AbhaAccount.objects.on_mobile(owner.mobile).explain()
    assert "abha_mobile_idx" in by_mobile


def test_a_token_loads_the_citizens_account_in_the_same_query(api_as, django_assert_num_queries):
    """abha.api.authentication: the account (with district and state) comes with the token; a deleted one does not."""
    from django.test.client import RequestFactory
    from rest_framework.authtoken.models import Token

    from abha.api.authentication import TokenWithAccountAuthentication
    from abha.enums import AccountStatus
    from abha.selectors import account_for_user

    account = AbhaAccountFactory()
    key = Token.objects.create(user=account.user).key
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {key}")
    with django_assert_num_queries(1):
        user, _token = TokenWithAccountAuthentication().authenticate(request)
        assert account_for_user(user) == account and account_for_user(user).district.name
    AbhaAccount.objects.filter(pk=account.pk).update(status=AccountStatus.DELETED)
    user, _token = TokenWithAccountAuthentication().authenticate(request)
    assert account_for_user(user) is None
    staff = UserFactory(role=Role.FACILITY_STAFF)
    staff_request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    user, _token = TokenWithAccountAuthentication().authenticate(staff_request)
    with django_assert_num_queries(0):
        assert account_for_user(user) is None


def test_an_sms_gateway_down_after_commit_still_answers_201_and_keeps_the_transaction(
    otp_api, settings, monkeypatch, sms_outbox
):
    retries = gateway_down(settings, monkeypatch)
    txn_id = otp_api.start("9876543210")  # 201: the gateway's failure does not fail the committed request
    assert OtpTransaction.objects.filter(uuid=txn_id, mobile="9876543210").exists()
    assert sms_outbox == [] and [retry["to"] for retry in retries] == ["9876543210"]
