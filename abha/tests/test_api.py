"""The ABHA API through ABDM (M1, the local sandbox over HTTP): owner, other citizen, staff and anonymous checks."""

import pytest
from django.test import override_settings

from abha.models import AbhaAccount, AbhaAddress, OtpTransaction
from core.enums import CountMetric, Role
from core.models import AuditEvent, DailyCount
from core.tests.factories import StateOfficialFactory, UserFactory
from facilities.enums import MembershipRole
from facilities.models import FacilityMembership
from facilities.tests.factories import FacilityFactory

from .conftest import new_aadhaar, new_mobile
from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]


def _counted(metric) -> int:
    return sum(DailyCount.objects.filter(metric=metric).values_list("value", flat=True))


def test_enrolment_through_abdm_creates_the_account_abdm_issued(otp_api, resident, abdm_sandbox):
    person = resident()
    start = otp_api.post("/api/v1/abha/enrolment/otp/", {"aadhaar": person.aadhaar, "consent_version": "2025-04"})
    assert start.status_code == 201, start.json()
    assert start.json()["mobile"] == "******" + person.mobile[-4:]  # ABDM names the Aadhaar-linked mobile
    txn_id = start.json()["txn_id"]
    assert OtpTransaction.objects.get(uuid=txn_id).abdm_txn_id  # ABDM's transaction, no OTP kept
    verify = otp_api.verify(txn_id, person)
    assert verify.status_code == 200, verify.json()
    body = verify.json()
    assert body["is_new"] is True and body["mobile_verification_required"] is False
    number = body["abha_number"].replace("-", "")
    assert len(number) == 14 and body["abha_address"] == f"{number}@sbx"

    suggestions = otp_api.client.get("/api/v1/abha/enrolment/suggestions/", {"txn_id": txn_id})
    assert suggestions.status_code == 200, suggestions.json()
    assert len(suggestions.json()["suggestions"]) >= 3
    assert all(s.endswith("@sbx") for s in suggestions.json()["suggestions"])
    chosen = suggestions.json()["suggestions"][0]

    response = otp_api.complete(txn_id, abha_address=chosen)
    assert response.status_code == 201, response.json()
    account_body = response.json()
    assert account_body["abha_address"] == chosen and len(account_body["abha_addresses"]) == 2
    assert f"{number}@sbx" in account_body["abha_addresses"]
    assert "aadhaar" not in account_body
    # The profile is ABDM's (from the resident's Aadhaar): name, birth date, district by LGD code.
    assert account_body["name"] == "Asha Patel" and account_body["dob"] == "23/5/1990"
    assert account_body["district_lgd"] == 443 and account_body["mobile"] == person.mobile
    account = AbhaAccount.objects.get(abha_number=number)
    assert account.user.role == Role.CITIZEN and account.user.username == number
    assert not account.user.has_usable_password()
    assert account.channel == "self" and account.consent_version == "2025-04"
    assert account.abdm_token and account.abdm_token_expires_at  # sealed, for the card
    assert AuditEvent.objects.filter(action="abha.enrol", target_id=str(account.uuid)).exists()
    assert _counted(CountMetric.ABHA_CREATED) == 1 and _counted(CountMetric.ABHA_ACTIVE) == 1

    again = otp_api.complete(txn_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "txn_completed"


def test_an_aadhaar_with_an_abha_gets_that_abha_back_and_nothing_is_counted(otp_api, resident):
    person = resident()
    first = otp_api.enrol(person, abha_address=f"asha.{person.mobile[-6:]}")
    created = _counted(CountMetric.ABHA_CREATED)
    txn_id, _person = otp_api.start(person)
    verify = otp_api.verify(txn_id, person)
    assert verify.status_code == 200, verify.json()
    assert verify.json()["is_new"] is False
    assert verify.json()["abha_number"] == first["abha_number"]
    assert verify.json()["abha_address"] == first["abha_address"]
    assert AbhaAccount.objects.count() == 1
    assert _counted(CountMetric.ABHA_CREATED) == created
    assert AuditEvent.objects.filter(action="abha.enrol_existing").count() == 1
    done = otp_api.complete(txn_id)
    assert done.status_code == 409 and done.json()["error"]["code"] == "txn_completed"


def test_a_mobile_that_is_not_the_aadhaar_linked_one_is_verified_by_otp(otp_api, resident, abdm_sandbox):
    person, other_mobile = resident(), new_mobile()
    txn_id, _ = otp_api.start(person)
    verify = otp_api.verify(txn_id, person, mobile=other_mobile)
    assert verify.status_code == 200, verify.json()
    assert verify.json()["mobile_verification_required"] is True
    early = otp_api.complete(txn_id)
    assert early.status_code == 400 and early.json()["error"]["code"] == "otp_not_verified"
    wrong = otp_api.post("/api/v1/abha/enrolment/mobile/verify/", {"txn_id": txn_id, "otp": "000000"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "otp_invalid"
    assert "otp" in wrong.json()["error"]["fields"]
    right = otp_api.post(
        "/api/v1/abha/enrolment/mobile/verify/", {"txn_id": txn_id, "otp": abdm_sandbox.last_otp(other_mobile)}
    )
    assert right.status_code == 200, right.json()
    done = otp_api.complete(txn_id)
    assert done.status_code == 201 and done.json()["mobile"] == other_mobile


def test_a_wrong_aadhaar_otp_is_said_plainly_and_the_right_one_still_works(otp_api, resident):
    person = resident()
    txn_id, _ = otp_api.start(person)
    wrong = otp_api.verify(txn_id, person, otp="000000")
    assert wrong.status_code == 400, wrong.json()
    assert wrong.json()["error"]["code"] == "otp_invalid"
    assert wrong.json()["error"]["fields"]["otp"] == ["The OTP is not correct. Check the SMS and type it again."]
    assert not AbhaAccount.objects.exists()
    assert otp_api.verify(txn_id, person).status_code == 200


def test_a_taken_address_is_refused_by_abdm_and_another_can_be_chosen(otp_api, resident):
    taken = f"asha.t{new_mobile()[-7:]}"
    otp_api.enrol(abha_address=taken)
    txn_id = otp_api.verified()
    check = otp_api.client.get("/api/v1/abha/enrolment/address-check/", {"txn_id": txn_id, "abha_address": taken})
    assert check.json()["available"] is False  # the portal knows it is taken
    AbhaAddress.objects.filter(local=taken).delete()  # ... and when it does not, ABDM still refuses it
    response = otp_api.complete(txn_id, abha_address=taken.upper())
    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "abha_address_taken"
    assert response.json()["error"]["fields"]["abha_address"] == ["This ABHA address is taken. Choose another one."]
    free = otp_api.complete(txn_id, abha_address=f"asha.f{new_mobile()[-7:]}")
    assert free.status_code == 201, free.json()


def test_default_address_when_none_is_chosen(otp_api):
    body = otp_api.enrol()
    number = body["abha_number"].replace("-", "")
    assert body["abha_address"] == f"{number}@sbx" and body["abha_addresses"] == [f"{number}@sbx"]


def test_bad_aadhaar_and_consent_are_refused_before_abdm_is_asked(api_client):
    bad = api_client.post("/api/v1/abha/enrolment/otp/", {"aadhaar": "234123412345", "consent_version": "2025-04"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["aadhaar"] == ["This Aadhaar number is not valid. Please check the 12 digits."]
    old = api_client.post("/api/v1/abha/enrolment/otp/", {"aadhaar": new_aadhaar(), "consent_version": "2019-01"})
    assert old.status_code == 400 and old.json()["error"]["code"] == "consent_required"
    empty = api_client.post("/api/v1/abha/enrolment/otp/", {}, format="json")
    assert set(empty.json()["error"]["fields"]) == {"aadhaar", "consent_version"}
    assert not OtpTransaction.objects.exists()


def test_suggestions_and_completion_need_an_abha_created_first(otp_api, api_client):
    txn_id, _ = otp_api.start()
    early = api_client.get("/api/v1/abha/enrolment/suggestions/", {"txn_id": txn_id})
    assert early.status_code == 409 and early.json()["error"]["code"] == "wrong_step"
    assert api_client.get("/api/v1/abha/enrolment/suggestions/", {"txn_id": "nope"}).status_code == 404
    assert otp_api.complete(txn_id).status_code == 409


@override_settings(OTP_IP_RATE="2/hour")
def test_enrolment_otps_are_throttled_per_client_address(otp_api):
    otp_api.start()
    otp_api.start()
    third = otp_api.post("/api/v1/abha/enrolment/otp/", {"aadhaar": new_aadhaar(), "consent_version": "2025-04"})
    assert third.status_code == 429 and third.json()["error"]["code"] == "throttled"


def test_abdm_not_answering_is_a_503_with_retry_after_and_nothing_is_kept(private_abdm_sandbox, settings, api_client):
    sandbox = private_abdm_sandbox()
    settings.ABDM_GATEWAY_URL, settings.ABDM_ABHA_URL = sandbox.url, sandbox.url + "/abha/api"
    sandbox.stop()
    response = api_client.post("/api/v1/abha/enrolment/otp/", {"aadhaar": new_aadhaar(), "consent_version": "2025-04"})
    assert response.status_code == 503, response.content
    assert response["Retry-After"]
    assert response.json()["error"]["code"] == "abdm_unavailable"
    assert response.json()["error"]["message"] == "ABDM is not answering. Please try again in a minute."
    assert not OtpTransaction.objects.exists()
    sandbox.start()
    again = api_client.post("/api/v1/abha/enrolment/otp/", {"aadhaar": new_aadhaar(), "consent_version": "2025-04"})
    assert again.status_code == 201, again.json()


# --- sign-in ---------------------------------------------------------------------------------------------------


def test_sign_in_by_number_address_and_mobile_gives_a_token(otp_api, api_client):
    body = otp_api.enrol(abha_address=f"asha.s{new_mobile()[-7:]}")
    person = body["person"]
    for login_id in (body["abha_number"], body["abha_number"].replace("-", ""), body["abha_address"], person.mobile):
        response = otp_api.sign_in(login_id, person.mobile)
        assert response.status_code == 200, response.json()
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        me = api_client.get("/api/v1/abha/me/")
        assert me.status_code == 200 and me.json()["abha_number"] == body["abha_number"]
    assert AuditEvent.objects.filter(action="abha.sign_in").count() == 4


def test_sign_in_knows_an_abha_the_portal_never_saw(otp_api, resident):
    body = otp_api.enrol()
    AbhaAccount.objects.all().delete()  # e.g. an ABHA made in the ABHA app: ABDM has it, the portal does not
    response = otp_api.sign_in(body["abha_number"], body["person"].mobile)
    assert response.status_code == 200, response.json()
    account = AbhaAccount.objects.get()
    assert account.abha_number_display == body["abha_number"] and account.first_name == "Asha"


def test_sign_in_on_a_shared_mobile_picks_one_abha(otp_api, resident, abdm_sandbox):
    family = new_mobile()
    first = otp_api.enrol(resident(mobile=family))
    second = otp_api.enrol(resident(mobile=family, name="Ravi Patel", gender="M"))
    start = otp_api.post("/api/v1/abha/login/otp/", {"login_id": family})
    txn_id, otp = start.json()["txn_id"], abdm_sandbox.last_otp(family)
    choose = otp_api.post("/api/v1/abha/login/verify/", {"txn_id": txn_id, "otp": otp})
    assert choose.status_code == 200, choose.json()
    assert choose.json()["token"] is None
    assert {a["abha_number"] for a in choose.json()["accounts"]} == {first["abha_number"], second["abha_number"]}
    picked = otp_api.post("/api/v1/abha/login/verify/", {"txn_id": txn_id, "abha_number": second["abha_number"]})
    assert picked.status_code == 200, picked.json()
    assert picked.json()["abha_number"] == second["abha_number"]
    replay = otp_api.post("/api/v1/abha/login/verify/", {"txn_id": txn_id, "otp": otp})
    assert replay.status_code == 409  # an OTP signs in once


def test_a_wrong_sign_in_otp_counts_down(otp_api):
    body = otp_api.enrol()
    start = otp_api.post("/api/v1/abha/login/otp/", {"login_id": body["abha_number"]})
    wrong = otp_api.post("/api/v1/abha/login/verify/", {"txn_id": start.json()["txn_id"], "otp": "000000"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "otp_invalid"
    assert "Attempts left: 4" in wrong.json()["error"]["message"]


def test_sign_in_errors(otp_api):
    unknown = otp_api.post("/api/v1/abha/login/otp/", {"login_id": "nobody.here"})
    assert unknown.status_code == 201
    deleted = AbhaAccountFactory(status="deleted")
    assert otp_api.post("/api/v1/abha/login/otp/", {"login_id": deleted.abha_number}).status_code == 201
    empty = otp_api.post("/api/v1/abha/login/otp/", {"login_id": "@sbx"})
    assert empty.status_code == 400 and "login_id" in empty.json()["error"]["fields"]


# --- me, card, lookup: owner / other citizen / staff / anonymous -----------------------------


@pytest.fixture
def owner():
    return AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9876543210")


def test_me_answers_only_about_the_caller(api_as, api_client, owner):
    path = "/api/v1/abha/me/"
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
    assert "aadhaar" not in body and "abdm_token" not in body


def test_the_card_is_abdms_card(otp_api, api_as, api_client):
    body = otp_api.enrol()
    account = AbhaAccount.objects.get()
    client = api_as(account.user)
    png = client.get("/api/v1/abha/me/card.png")
    assert png.status_code == 200, png.content[:200]
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    pdf = client.get("/api/v1/abha/me/card.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    other = api_as(AbhaAccountFactory(mobile="9876500000").user).get("/api/v1/abha/me/card.png")
    assert other.status_code == 401 and other.json()["error"]["code"] == "abdm_sign_in_again"  # no ABDM session
    assert api_as(UserFactory(role=Role.FACILITY_STAFF)).get("/api/v1/abha/me/card.png").status_code == 403
    assert api_client.get("/api/v1/abha/me/card.png").status_code == 401
    assert body["abha_number"]


def test_an_expired_abdm_token_is_refreshed_for_the_card(otp_api, api_as):
    otp_api.enrol()
    account = AbhaAccount.objects.get()
    before = account.abdm_token
    AbhaAccount.objects.filter(pk=account.pk).update(abdm_token="", abdm_token_expires_at=None)
    assert api_as(account.user).get("/api/v1/abha/me/card.png").status_code == 200
    account.refresh_from_db()
    assert account.abdm_token and account.abdm_token != before


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


def test_assisted_enrolment_records_who_and_where(otp_api, api_as, facility_staff, resident):
    facility = facility_staff.memberships.get().facility
    staff_client = api_as(facility_staff)
    txn_id, person = otp_api.start(client=staff_client, facility_id=facility.facility_id)
    assert otp_api.verify(txn_id, person, client=staff_client).status_code == 200
    done = otp_api.complete(txn_id, client=staff_client)
    assert done.status_code == 201, done.json()
    account = AbhaAccount.objects.get()
    assert (account.channel, account.assisted_by, account.assisted_facility) == ("assisted", facility_staff, facility)
    # Someone from another facility cannot claim this facility (refused before ABDM is asked).
    outsider = api_as(UserFactory(role=Role.FACILITY_STAFF))
    refused = outsider.post(
        "/api/v1/abha/enrolment/otp/",
        {"aadhaar": resident().aadhaar, "consent_version": "2025-04", "facility_id": facility.facility_id},
        format="json",
    )
    assert refused.status_code == 403


def test_lookup_does_not_find_deactivated_or_deleted_abhas(api_as, facility_staff):
    client = api_as(facility_staff)
    for status in ("deactivated", "deleted"):
        account = AbhaAccountFactory(status=status, mobile="9000000009")
        assert client.get("/api/v1/abha/lookup/", {"id": account.abha_number}).status_code == 404


def test_lookups_use_the_indexes(owner):
    """Look-up by number and by address must be index scans (p99 < 10 ms at 1 crore accounts)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    by_address = AbhaAddress.objects.named("Asha.Patel90").only("account_id").explain()
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
