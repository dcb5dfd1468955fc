"""Scan & Share: token rules (numbering, repeat shares, validity, rollover, bad QRs), API access and pages."""

import datetime
import re
import zoneinfo
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from abha.enums import AccountStatus
from abha.models import AbhaAccount
from abha.tests.factories import AbhaAccountFactory
from core import counters
from core.enums import CountMetric, Role
from core.exceptions import Conflict, DomainError, NotAllowed, NotFound
from core.models import AuditEvent, DailyCount
from facilities.enums import FacilityStatus, MembershipRole
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory
from scanshare import services
from scanshare.api.serializers import TokenOutSerializer
from scanshare.enums import TokenStatus
from scanshare.models import ScanToken

pytestmark = pytest.mark.django_db
IST = zoneinfo.ZoneInfo("Asia/Kolkata")


@pytest.fixture
def desk():
    """A verified facility with counter OPD1, its staff, staff of another facility, and two citizens."""
    facility = FacilityFactory(name="Sir T Hospital", facility_id="IN2410000123")
    other = FacilityFactory(name="Naroda Hospital")
    return {
        "facility": facility,
        "counter": CounterFactory(facility=facility, code="OPD1", name="General OPD"),
        "staff": MembershipFactory(facility=facility, role=MembershipRole.STAFF, user__role=Role.FACILITY_STAFF).user,
        "other_staff": MembershipFactory(facility=other, user__role=Role.FACILITY_STAFF).user,
        "asha": AbhaAccountFactory(first_name="Asha", mobile="9876500001"),
        "ravi": AbhaAccountFactory(first_name="Ravi", mobile="9876500002"),
    }


def issue(account, code="OPD1", hip_id="IN2410000123"):
    return services.token_issue(account=account, actor=account.user, hip_id=hip_id, counter_code=code)


def test_tokens_are_numbered_from_one_per_counter_and_a_repeat_share_returns_the_same_token(desk):
    first, created = issue(desk["asha"])
    second, _ = issue(desk["ravi"])
    again, created_again = issue(desk["asha"])
    assert (first.number, second.number, created) == (1, 2, True)
    assert (again.pk, created_again) == (first.pk, False)
    other_counter = CounterFactory(facility=desk["facility"], code="OPD2")
    assert issue(desk["asha"], code=other_counter.code)[0].number == 1
    assert first.profile["name"].startswith("Asha") and first.profile["mobile"] == "98xxxxxx01"
    assert set(first.profile) >= {"abha_number", "abha_address", "gender", "age", "address"}
    assert AuditEvent.objects.filter(action="scan_share.share").count() == 3  # the repeat share adds none


def test_a_share_after_validity_or_after_the_token_closed_gets_a_new_number(desk, settings):
    # Mid-morning: run at the real time, within the validity of midnight in Kolkata, "later" was the next day and
    # its numbering started again at 1.
    morning = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=IST)
    with mock.patch("django.utils.timezone.now", return_value=morning):
        first, _ = issue(desk["asha"])
    later = first.valid_until + datetime.timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert issue(desk["asha"])[0].number == 2
    ScanToken.objects.filter(number=2).update(status=TokenStatus.DONE)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert issue(desk["asha"])[0].number == 3
    assert first.valid_until - first.issued_at == datetime.timedelta(minutes=settings.SCAN_TOKEN_VALIDITY_MINUTES)


def test_numbers_start_again_at_one_after_midnight_in_kolkata(desk):
    before = datetime.datetime(2026, 3, 10, 23, 50, tzinfo=IST)
    after = datetime.datetime(2026, 3, 11, 0, 5, tzinfo=IST)  # 18:35 UTC: still 10 March in UTC
    with mock.patch("django.utils.timezone.now", return_value=before):
        late = issue(desk["ravi"])[0]
    with mock.patch("django.utils.timezone.now", return_value=after):
        early = issue(desk["asha"])[0]
    assert (late.day, late.number) == (datetime.date(2026, 3, 10), 1)
    assert (early.day, early.number) == (datetime.date(2026, 3, 11), 1)


@pytest.mark.parametrize(
    ("change", "hip_id", "code", "error", "error_code"),
    [
        (None, "IN2499999999", "OPD1", NotFound, "unknown_facility"),
        (None, "https://evil.example/x", "OPD1", DomainError, "foreign_qr"),
        (None, "IN2410000123", "XRAY9", NotFound, "unknown_counter"),
        (None, "IN2410000123", "", DomainError, "scan_incomplete"),
        ("inactive_counter", "IN2410000123", "OPD1", Conflict, "counter_inactive"),
        ("unverified", "IN2410000123", "OPD1", Conflict, "facility_not_verified"),
        ("suspended_abha", "IN2410000123", "OPD1", NotAllowed, "abha_inactive"),
    ],
)
def test_no_token_is_issued_for_a_bad_qr_counter_or_account(desk, change, hip_id, code, error, error_code):
    if change == "inactive_counter":
        desk["counter"].active = False
        desk["counter"].save()
    elif change == "unverified":
        desk["facility"].status = FacilityStatus.SUSPENDED
        desk["facility"].save()
    elif change == "suspended_abha":
        desk["asha"].status = AccountStatus.DEACTIVATED
        desk["asha"].save()
    with pytest.raises(error) as raised:
        issue(desk["asha"], code=code, hip_id=hip_id)
    assert raised.value.code == error_code
    assert not ScanToken.objects.exists()


def test_each_token_counts_once_on_the_dashboard_and_the_counter_matches_its_source(desk):
    issue(desk["asha"])
    issue(desk["ravi"])
    issue(desk["asha"])
    row = DailyCount.objects.get(metric=CountMetric.SCAN_TOKENS, facility_key=desk["facility"].pk)
    assert row.value == 2 and row.day == timezone.localdate()
    assert counters.rebuild([CountMetric.SCAN_TOKENS]) == []


def test_staff_call_done_and_no_show_move_a_token_once(desk):
    token, _ = issue(desk["asha"])
    second, _ = issue(desk["ravi"])
    called = services.token_call_next(counter=desk["counter"], actor=desk["staff"])
    assert called.pk == token.pk and called.status == TokenStatus.CALLED
    with pytest.raises(Conflict):
        services.token_move(token=token, actor=desk["staff"], step="call")
    assert services.token_move(token=token, actor=desk["staff"], step="done").status == TokenStatus.DONE
    assert services.token_move(token=second, actor=desk["staff"], step="no_show").status == TokenStatus.NO_SHOW
    assert services.token_call_next(counter=desk["counter"], actor=desk["staff"]) is None
    with pytest.raises(NotAllowed):
        services.token_move(token=second, actor=desk["other_staff"], step="done")


def test_call_next_expires_waiting_tokens_past_their_validity(desk):
    token, _ = issue(desk["asha"])
    fresh, _ = issue(desk["ravi"])
    ScanToken.objects.filter(pk=token.pk).update(valid_until=timezone.now() - datetime.timedelta(minutes=1))
    assert services.token_call_next(counter=desk["counter"], actor=desk["staff"]).pk == fresh.pk
    token.refresh_from_db()
    assert token.status == TokenStatus.EXPIRED


# --- API -------------------------------------------------------------------------------------

SHARE = "/api/v1/scan-share/"


def test_api_share_returns_201_then_200_with_the_same_body(desk, api_as):
    client = api_as(desk["asha"].user)
    first = client.post(SHARE, {"hip_id": "IN2410000123", "counter_id": "OPD1"}, format="json")
    again = client.post(SHARE, {"hip_id": "IN2410000123", "counter_id": "OPD1"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    body = first.json()
    assert {"token_number", "counter", "facility", "expires_at", "status"} <= set(body)
    assert (body["token_number"], body["counter"]["code"], body["status"]) == (1, "OPD1", "waiting")
    assert body["facility"]["hip_id"] == "IN2410000123"
    token = ScanToken.objects.select_related("facility", "counter").get()
    assert body == TokenOutSerializer(token).data  # the body built by hand is what the documented serializer says


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"hip_id": "IN2499999999", "counter_id": "OPD1"}, 404, "unknown_facility"),
        ({"hip_id": "IN2410000123", "counter_id": "NOPE"}, 404, "unknown_counter"),
        ({"hip_id": "not-ours", "counter_id": "OPD1"}, 400, "foreign_qr"),
        ({"counter_id": "OPD1"}, 400, "invalid"),
    ],
)
def test_api_share_bad_input_has_the_error_shape(desk, api_as, data, status, code):
    response = api_as(desk["asha"].user).post(SHARE, data, format="json")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not ScanToken.objects.exists()


def test_api_share_is_for_signed_in_citizens_only(desk, api_client, api_as):
    data = {"hip_id": "IN2410000123", "counter_id": "OPD1"}
    assert api_client.post(SHARE, data, format="json").status_code == 401
    response = api_as(desk["staff"]).post(SHARE, data, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "not_citizen")


def test_api_queue_owner_staff_sees_profiles_others_do_not(desk, api_as, api_client, django_assert_max_num_queries):
    token, _ = issue(desk["asha"])
    issue(desk["ravi"])
    url = f"/api/v1/facilities/{desk['facility'].uuid}/queue/?counter=OPD1"
    client = api_as(desk["staff"])
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["token_number"] for row in results] == [1, 2]
    assert results[0]["profile"]["name"] == token.profile["name"] and results[0]["returning"] is False
    assert api_as(desk["other_staff"]).get(url).status_code == 404
    assert api_as(desk["asha"].user).get(url).status_code == 404
    assert api_client.get(url).status_code == 401
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert client.get(f"{url}&date={yesterday}").json()["results"] == []
    assert client.get(f"{url}&date=nope").json()["error"]["code"] == "invalid"


def test_a_patient_with_an_earlier_token_at_the_facility_is_returning(desk, api_as):
    old, _ = issue(desk["asha"])
    ScanToken.objects.filter(pk=old.pk).update(
        day=timezone.localdate() - datetime.timedelta(days=3),
        issued_at=timezone.now() - datetime.timedelta(days=3),
        valid_until=timezone.now() - datetime.timedelta(days=3),
    )
    issue(desk["asha"])
    issue(desk["ravi"])
    url = f"/api/v1/facilities/{desk['facility'].uuid}/queue/"
    rows = {
        row["profile"]["name"].split()[0]: row["returning"] for row in api_as(desk["staff"]).get(url).json()["results"]
    }
    assert rows == {"Asha": True, "Ravi": False}


def test_api_call_done_no_show_for_staff_of_the_facility_only(desk, api_as, api_client):
    token, _ = issue(desk["asha"])
    base = f"/api/v1/scan-share/{token.uuid}"
    assert api_client.post(f"{base}/call/").status_code == 401
    assert api_as(desk["asha"].user).post(f"{base}/call/").status_code == 404
    assert api_as(desk["other_staff"]).post(f"{base}/call/").status_code == 404
    staff = api_as(desk["staff"])
    assert staff.post(f"{base}/call/").json()["status"] == "called"
    again = staff.post(f"{base}/call/")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "token_state")
    assert staff.post(f"{base}/done/").json()["status"] == "done"
    second, _ = issue(desk["ravi"])
    assert staff.post(f"/api/v1/scan-share/{second.uuid}/no-show/").json()["status"] == "no_show"


def test_the_schema_documents_the_scan_share_operations(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    assert schema["paths"]["/api/v1/scan-share/"]["post"]["summary"]
    assert schema["paths"]["/api/v1/facilities/{uuid}/queue/"]["get"]["summary"]
    assert schema["paths"]["/api/v1/scan-share/{uuid}/no-show/"]["post"]["summary"]


# --- Pages -----------------------------------------------------------------------------------

SCAN = "/scan/?hip-id=IN2410000123&counter-id=OPD1"


def _otp(outbox):
    return next(word for word in outbox[-1]["text"].split() if word.isdigit() and len(word) == 6)


def test_scan_page_signs_in_with_otp_then_shares_and_shows_the_token(
    desk, client, sms_outbox, django_capture_on_commit_callbacks, abdm_sandbox
):
    from abha.tests.factories import give_abdm_session

    give_abdm_session(desk["asha"], abdm_sandbox)  # an ABHA ABDM knows: the sign-in OTP is ABDM's
    page = client.get(SCAN)
    assert "Sir T Hospital" in page.text and "OPD1" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SCAN, {"login_id": desk["asha"].abha_number})
    assert response.status_code == 302 and response["Location"] == SCAN
    assert "OTP" in client.get(SCAN).text
    response = client.post(SCAN, {"otp": abdm_sandbox.last_otp(desk["asha"].mobile)})
    assert response["Location"] == SCAN
    page = client.get(SCAN)
    assert "You agree to share the above with Sir T Hospital." in page.text
    assert "98xxxxxx01" in page.text
    response = client.post(SCAN, {"share": "1"})
    token = ScanToken.objects.get()
    assert response["Location"] == reverse("facilities:scan_token", args=[token.uuid])
    shown = client.get(response["Location"]).text
    assert 'data-token="1"' in shown and "General OPD" in shown
    assert "Sir T Hospital" in client.get(reverse("facilities:scan_history")).text


def test_scan_page_explains_a_bad_qr_and_issues_nothing(desk, client):
    desk["counter"].active = False
    desk["counter"].save()
    response = client.get(SCAN)
    assert response.status_code == 409 and "is closed" in response.text
    assert client.get("/scan/?hip-id=IN2499999999&counter-id=OPD1").status_code == 404
    assert client.get("/scan/?hip-id=xyz&counter-id=OPD1").status_code == 400
    assert client.get("/scan/")["Location"] == reverse("facilities:scan_help")
    assert client.get(reverse("facilities:scan_help")).status_code == 200


def test_only_the_patient_sees_their_token_page(desk, client):
    token, _ = issue(desk["asha"])
    url = reverse("facilities:scan_token", args=[token.uuid])
    client.force_login(desk["ravi"].user)
    assert client.get(url).status_code == 404
    client.force_login(desk["asha"].user)
    assert client.get(url).status_code == 200


def test_the_token_page_polls_while_open_refreshes_without_js_and_says_where_to_go_once_called(desk, client):
    token, _ = issue(desk["asha"])
    url = reverse("facilities:scan_token", args=[token.uuid])
    client.force_login(desk["asha"].user)
    waiting = client.get(url).content.decode()
    assert 'hx-trigger="every 5s"' in waiting and f'<a href="{url}">' in waiting
    assert '<noscript><meta http-equiv="refresh"' in waiting and "Your token is called" not in waiting
    services.token_call_next(counter=desk["counter"], actor=desk["staff"])
    called = client.get(url).content.decode()
    assert "Your token is called: go to counter OPD1" in called
    services.token_move(token=token, actor=desk["staff"], step="done")
    done = client.get(url).content.decode()
    assert "hx-trigger" not in done and "noscript><meta" not in done


def test_queue_and_display_pages_for_the_facility_staff_only(desk, client):
    issue(desk["asha"])
    facility = desk["facility"]
    queue = reverse("facilities:scan_queue", args=[facility.uuid])
    display = reverse("facilities:scan_display", args=[facility.uuid, "OPD1"])
    client.force_login(desk["other_staff"])
    assert client.get(queue).status_code == 404 and client.get(display).status_code == 404
    client.force_login(desk["staff"])
    page = client.get(queue)
    assert page.status_code == 200 and "htmx-2.min.js" in page.text and "Asha" in page.text
    # Gender in the reader's words, in the reader's language (the snapshot keeps the code).
    assert " · Female · " in page.text
    client.cookies["django_language"] = "gu"
    assert " · સ્ત્રી · " in client.get(queue).text
    client.cookies["django_language"] = "en"
    partial = client.get(queue, headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="scan-queue"') and "<html" not in partial.text
    client.post(reverse("facilities:scan_call_next", args=[facility.uuid, "OPD1"]))
    assert 'data-current="1"' in client.get(display).text


def test_the_queue_puts_the_next_step_of_each_token_first(desk, client):
    # Waiting: "Call" is the filled button; once called, "Done" is (a staff member's eye goes to the filled one).
    issue(desk["asha"])
    issue(desk["ravi"])
    client.force_login(desk["staff"])
    services.token_call_next(counter=desk["counter"], actor=desk["staff"])
    rows = client.get(reverse("facilities:scan_queue", args=[desk["facility"].uuid])).text.split("<tr ")[1:]
    called, waiting = (next(row for row in rows if f'data-token="{n}"' in row) for n in (1, 2))
    assert re.search(r'class="button primary">Done<', called) and not re.search(r"primary\">Call<", called)
    assert re.search(r'class="button primary">Call<', waiting) and re.search(r'class="button">Done<', waiting)


def test_nobody_shares_someone_elses_profile(desk):
    with pytest.raises(NotAllowed) as raised:
        services.token_issue(account=desk["asha"], actor=desk["ravi"].user, hip_id="IN2410000123", counter_code="OPD1")
    assert raised.value.code == "not_own_account" and not ScanToken.objects.exists()


def test_the_facility_page_links_its_staff_to_the_counter_queue(desk, client):
    queue = reverse("facilities:scan_queue", args=[desk["facility"].uuid])
    client.force_login(desk["staff"])
    assert queue in client.get(reverse("facilities:detail", args=[desk["facility"].uuid])).text


def test_a_share_costs_few_queries(desk, django_assert_max_num_queries):
    """The morning rush: a share is the profile's ABHA address and one SQL call (the API's token authentication
    has loaded the account with its district)."""
    issue(desk["asha"])  # the counter's sequence row exists, as it does after the day's first patient
    ravi = AbhaAccount.objects.select_related("user", "district").get(pk=desk["ravi"].pk)
    with django_assert_max_num_queries(2):
        token, created = issue(ravi)
    assert (token.number, created, token.counter.code, token.facility.facility_id) == (2, True, "OPD1", "IN2410000123")


def test_a_counter_opened_between_the_two_looks_still_shares(desk, monkeypatch):
    """The SQL function found no open counter, but the look that says why finds it open: the share is made."""
    calls = []

    def misses_first(params, issue_row=services._issue):
        calls.append(params)
        return None if len(calls) == 1 else issue_row(params)

    monkeypatch.setattr(services, "_issue", misses_first)
    token, created = issue(desk["asha"])
    assert (token.number, created, len(calls)) == (1, True, 2)


def test_a_counter_that_keeps_changing_gets_a_retry_answer(desk, monkeypatch):
    monkeypatch.setattr(services, "_issue", lambda params: None)
    with pytest.raises(Conflict) as raised:
        issue(desk["asha"])
    assert raised.value.code == "retry" and not ScanToken.objects.exists()
