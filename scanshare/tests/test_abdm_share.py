"""Scan & Share through ABDM against the sandbox over HTTP: the sandbox plays the ABHA app (POST
/sandbox/v1/app/share), its gateway sends the patient-share callback to the live portal (the bridge), the portal
issues the token with the counter's gap-free numbering and answers on-share (through the outbox, sent here in the
test's process); the sandbox records the answer. Refusals answer ABDM's error and issue no token."""

import time

import pytest

from abdm import bridge_services, client, outbox
from abdm.enums import OutboxStatus
from abdm.models import OutboxMessage
from abha.enums import AccountStatus
from abha.models import AbhaAccount
from abha.tests.factories import AbhaAccountFactory, known_to_sandbox
from core.enums import Role
from core.models import AuditEvent
from facilities.enums import FacilityStatus, MembershipRole
from facilities.posters import abdm_share_url, poster_qr_url, share_url
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory
from scanshare import abdm_share, services
from scanshare.enums import ShareSource
from scanshare.models import ScanToken

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bridge(abdm_sandbox, settings, live_server):
    settings.ABDM_GATEWAY_URL = abdm_sandbox.url
    settings.ABDM_HFR_URL = abdm_sandbox.url + "/v4/int"
    client.forget_session_token()
    client.gateway_request("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": live_server.url})
    return abdm_sandbox


def hip_on_sandbox(sandbox, name):
    """A facility on the sandbox's HFR that is an active HIP service of the portal's bridge there: its HFR ID."""
    created = sandbox.post(
        "hfr/facilities",
        json={"facilityName": name, "ownershipCode": "G", "stateLGDCode": "24", "stateName": "GUJARAT",
              "districtLGDCode": "438", "districtName": "Ahmedabad"},
    )  # fmt: skip
    assert created.status_code in (200, 201), created.text
    hip_id = created.json()["facilities"][0]["facilityId"]
    body = bridge_services.hip_service_body(facility_id=hip_id, name=name, active=True)
    client.hfr_request("POST", bridge_services.ADD_UPDATE_PATH, json=body)
    return hip_id


@pytest.fixture
def hospital(bridge):
    """A verified facility that is an HIP on the sandbox, with counter OPD1 and a staff member."""
    facility = FacilityFactory(name="Sir T Hospital", facility_id=hip_on_sandbox(bridge, "Sir T Hospital"))
    counter = CounterFactory(facility=facility, code="OPD1", name="General OPD")
    staff = MembershipFactory(facility=facility, role=MembershipRole.STAFF, user__role=Role.FACILITY_STAFF).user
    return facility, counter, staff


@pytest.fixture
def asha(bridge):
    account = AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9876500001")
    known_to_sandbox(bridge, account)
    return account


def share(sandbox, account_or_address, hip_id, counter_id) -> dict:
    """The ABHA app shares at a counter; the bridge's outbox answers; the app's record of the answer."""
    address = account_or_address if isinstance(account_or_address, str) else f"{account_or_address.abha_number}@sbx"
    started = sandbox.post("app/share", json={"abhaAddress": address, "hipId": hip_id, "counterId": counter_id})
    assert started.status_code == 202, started.text
    request_id = started.json()["requestId"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message_id in outbox.due_message_ids():
            outbox.deliver(message_id)
        result = sandbox.get(f"app/share/{request_id}").json()
        if result["status"] != "SENT":
            return result
        time.sleep(0.1)
    states = list(OutboxMessage.objects.values_list("kind", "status", "error_code", "last_error"))
    pytest.fail(f"no answer in 30 s; outbox: {states}")


def test_a_patient_shares_from_the_abha_app_and_gets_the_token_the_queue_shows(bridge, hospital, asha, client):
    facility, counter, staff = hospital
    # Someone shared on the portal's own scan page first: the app's share takes the counter's next number.
    walk_in = AbhaAccountFactory()
    first, _created = services.token_issue(
        account=walk_in, actor=walk_in.user, hip_id=facility.facility_id, counter_code="OPD1"
    )
    assert first.number == 1

    result = share(bridge, asha, facility.facility_id, "OPD1")
    assert result["status"] == "ANSWERED" and result["error"] is None
    token = ScanToken.objects.get(source=ShareSource.ABDM)
    assert (token.number, token.counter, token.patient) == (2, counter, asha)
    assert result["tokenNumber"] == "2"
    assert 1790 <= int(result["expiry"]) <= 1800  # seconds: 30 minutes
    answer = result["answer"]
    assert answer["acknowledgement"] == {
        "status": "SUCCESS",
        "abhaAddress": f"{asha.abha_number}@sbx",
        "profile": {"context": "OPD1", "tokenNumber": "2", "expiry": answer["acknowledgement"]["profile"]["expiry"]},
    }
    assert answer["response"]["requestId"] == result["requestId"] and "error" not in answer
    [sent] = OutboxMessage.objects.filter(kind=abdm_share.ON_SHARE_KIND)
    assert (sent.path, sent.status) == ("/api/hiecm/patient-share/v3/on-share", OutboxStatus.SENT)
    # The profile ABDM shared, as the queue shows it.
    assert token.abha_address == f"{asha.abha_number}@sbx"
    assert token.profile["name"] == "Asha Patel" and token.profile["mobile"] == "98xxxxxx01"
    assert token.profile["abha_number"] == asha.abha_number_display
    audit = AuditEvent.objects.get(action="scan_share.share", target_id=str(token.uuid))
    assert audit.actor_id is None and audit.details["source"] == "abdm"

    client.force_login(staff)
    page = client.get(f"/facilities/{facility.uuid}/scan-queue/?counter=OPD1").content.decode()
    assert 'data-token="2"' in page and "Asha Patel" in page and "ABHA app" in page
    assert f"/records/add/?token={token.uuid}" in page  # visit-from-token as today
    form = client.get(f"/records/add/?token={token.uuid}").context["form"]
    assert form.initial["patient"] == asha.abha_number
    rows = client.get(f"/api/v1/facilities/{facility.uuid}/queue/?counter=OPD1").json()["results"]
    assert [(row["token_number"], row["source"]) for row in rows] == [(1, "portal"), (2, "abdm")]


def test_a_repeat_share_within_validity_returns_the_same_token(bridge, hospital, asha):
    facility, _counter, _staff = hospital
    first = share(bridge, asha, facility.facility_id, "OPD1")
    again = share(bridge, asha, facility.facility_id, "OPD1")
    assert first["requestId"] != again["requestId"]
    assert first["tokenNumber"] == again["tokenNumber"] == "1"
    assert int(again["expiry"]) <= int(first["expiry"])
    assert ScanToken.objects.count() == 1
    # Another patient gets the next number.
    ravi = AbhaAccountFactory(first_name="Ravi", last_name="Shah")
    known_to_sandbox(bridge, ravi)
    assert share(bridge, ravi, facility.facility_id, "OPD1")["tokenNumber"] == "2"


def test_an_abha_the_portal_does_not_know_is_copied_at_its_first_share(bridge, hospital):
    facility, _counter, _staff = hospital
    stranger = AbhaAccountFactory(first_name="Meera", last_name="Joshi", mobile="9876500077")
    known_to_sandbox(bridge, stranger)
    number = stranger.abha_number
    user = stranger.user
    stranger.delete()
    user.delete()  # made in the ABHA app: ABDM knows the ABHA, the portal does not

    result = share(bridge, f"{number}@sbx", facility.facility_id, "OPD1")
    assert result["tokenNumber"] == "1"
    copy = AbhaAccount.objects.get(abha_number=number)
    assert (copy.first_name, copy.last_name, copy.mobile, copy.status) == ("Meera", "Joshi", "9876500077", "active")
    assert ScanToken.objects.get().patient == copy


@pytest.mark.parametrize(
    ("setup", "counter_id", "code"),
    [
        ("unverified", "OPD1", "ABDM-1035"),
        ("inactive", "OPD1", "ABDM-9999"),
        ("beyond_limits", "OPD-2", "ABDM-1050"),
        ("unknown_counter", "XRAY9", "ABDM-1050"),
    ],
)
def test_a_share_the_portal_refuses_gets_abdms_error_and_no_token(bridge, hospital, asha, setup, counter_id, code):
    facility, counter, _staff = hospital
    if setup == "unverified":
        facility.status = FacilityStatus.SUBMITTED
        facility.save()
    elif setup == "inactive":
        counter.active = False
        counter.save()
    elif setup == "beyond_limits":
        CounterFactory(facility=facility, code="OPD-2", name="Eye OPD")  # the portal allows it, ABDM's QR does not
    result = share(bridge, asha, facility.facility_id, counter_id)
    assert result["status"] == "ANSWERED" and result["tokenNumber"] is None
    assert result["error"]["code"] == code
    assert result["answer"] == {"error": result["error"], "response": {"requestId": result["requestId"]}}
    assert not ScanToken.objects.exists()
    refused = AuditEvent.objects.get(action="scan_share.abdm_refused")
    assert refused.details["code"] == code and "Asha" not in str(refused.details)


def test_a_share_for_a_facility_the_portal_does_not_have_gets_invalid_hip(bridge, asha):
    # An HIP of the portal's bridge on ABDM that the portal has no facility for.
    hip_id = hip_on_sandbox(bridge, "Elsewhere Hospital")
    result = share(bridge, asha, hip_id, "OPD1")
    assert result["error"]["code"] == "ABDM-1035"
    assert not ScanToken.objects.exists()


def test_a_share_by_an_abha_the_portal_has_deactivated_is_refused(bridge, hospital, asha):
    facility, _counter, _staff = hospital
    AbhaAccount.objects.filter(pk=asha.pk).update(status=AccountStatus.DEACTIVATED)
    result = share(bridge, asha, facility.facility_id, "OPD1")
    assert result["error"]["code"] == "ABDM-1407"
    assert not ScanToken.objects.exists()


# --- Without HTTP: what the sandbox's app cannot send -----------------------------------------------------


def _share_body(hip_id, context="OPD1", **patient):
    return {
        "intent": "PROFILE_SHARE",
        "metaData": {"hipId": hip_id, "context": context, "latitude": None, "longitude": None},
        "profile": {
            "patient": {
                "abhaNumber": None,
                "abhaAddress": "kiran.d@sbx",
                "name": "Kiran Desai",
                "gender": "T",
                "yearOfBirth": "1991",
                "address": {"line": "12 MG Road", "district": "Surat", "state": "Gujarat", "pincode": "395001"},
                "phoneNumber": "+91 9876500042",
                **patient,
            }
        },
    }


def test_an_address_only_abha_gets_a_token_on_its_address_and_a_repeat_returns_it(settings):
    facility = FacilityFactory(name="Civil Hospital")
    CounterFactory(facility=facility, code="OPD1")
    headers = {"X-Hip-Id": facility.facility_id}
    abdm_share.patient_share("11111111-1111-4111-8111-111111111111", _share_body(facility.facility_id), headers)
    abdm_share.patient_share("22222222-2222-4222-8222-222222222222", _share_body(facility.facility_id), headers)
    [token] = ScanToken.objects.all()
    assert token.patient is None and token.abha_address == "kiran.d@sbx" and token.number == 1
    assert token.profile["gender"] == "O" and token.profile["mobile"] == "98xxxxxx42"
    assert token.profile["abha_number"] == ""
    answers = [m.body for m in OutboxMessage.objects.filter(kind=abdm_share.ON_SHARE_KIND).order_by("id")]
    assert [a["acknowledgement"]["profile"]["tokenNumber"] for a in answers] == ["1", "1"]
    assert [a["response"]["requestId"][:8] for a in answers] == ["11111111", "22222222"]


def test_another_intent_or_a_mismatched_hip_header_is_refused_without_a_token():
    facility = FacilityFactory()
    CounterFactory(facility=facility, code="OPD1")
    body = {**_share_body(facility.facility_id), "intent": "RECORD_SHARE"}
    abdm_share.patient_share("33333333-3333-4333-8333-333333333333", body, {})
    abdm_share.patient_share(
        "44444444-4444-4444-8444-444444444444", _share_body(facility.facility_id), {"X-HIP-ID": "IN2499999999"}
    )
    codes = [m.body["error"]["code"] for m in OutboxMessage.objects.filter(kind=abdm_share.ON_SHARE_KIND)]
    assert sorted(codes) == ["ABDM-1035", "ABDM-1149"]
    assert not ScanToken.objects.exists()


# --- The counter's QR ----------------------------------------------------------------------------------------


def test_the_counter_qr_is_abdms_share_profile_url_and_the_portal_page_stays_for_the_rest(settings):
    settings.ABDM_SHARE_PROFILE_URL = "https://phrsbx.abdm.gov.in/share-profile"
    settings.PORTAL_BASE_URL = "https://portal.example.in"
    facility = FacilityFactory(name="Sir T Hospital", facility_id="IN2410000123")
    counter = CounterFactory(facility=facility, code="OPD1")
    assert abdm_share_url(counter) == "https://phrsbx.abdm.gov.in/share-profile?hip-id=IN2410000123&counter-id=OPD1"
    assert poster_qr_url(counter) == abdm_share_url(counter)
    assert share_url(counter) == "https://portal.example.in/scan/?hip-id=IN2410000123&counter-id=OPD1"
    # Codes ABDM does not allow: the poster's QR is the portal's page, and the service says why.
    for code in ("OPD-2", "IN2410000123", "SIRTHOSPITAL"):
        odd = CounterFactory(facility=facility, code=code)
        assert poster_qr_url(odd) == share_url(odd)
        assert services.abdm_counter_code_problem(odd)
    assert services.abdm_counter_code_problem(counter) == ""


def test_the_poster_holds_abdms_qr_and_the_portals_small_one(settings):
    import io

    import zxingcpp
    from PIL import Image

    from facilities.posters import poster_bytes

    settings.PORTAL_BASE_URL = "https://portal.example.in"
    facility = FacilityFactory(name="Sir T Hospital", facility_id="IN2410000123")
    counter = CounterFactory(facility=facility, code="OPD1")
    decoded = {code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(poster_bytes(counter, "png"))))}
    assert decoded == {abdm_share_url(counter), share_url(counter)}
    odd = CounterFactory(facility=facility, code="OPD-2")
    decoded = [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(poster_bytes(odd, "png"))))]
    assert decoded == [share_url(odd)]
