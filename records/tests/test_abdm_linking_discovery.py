"""User-initiated linking: the gateway's discovery, link-init and link-confirm webhooks, signed and sent by the ABDM
sandbox to a live portal (its /sandbox/v1/callbacks helper plays the gateway), answered with on-discover, on-init
and on-confirm calls queued in the outbox (their bodies are checked here; abdm/tests/test_linking.py checks them
against the spec's schemas)."""

import datetime as dt
import uuid

import pytest
from django.conf import settings

from abdm import client
from abdm import linking as m2
from abdm.models import OutboxMessage
from abha.tests.factories import AbhaAccountFactory
from core.enums import Role
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records import services
from records.enums import HiType
from records.linking.models import AbdmCareContextLink, AbdmLinkStatus
from records.models import CareContext

from .factories import add_record, bundle_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bridge(abdm_sandbox, settings, live_server):
    """The sandbox's gateway calls this test's live portal back."""
    settings.ABDM_GATEWAY_URL = abdm_sandbox.url
    settings.ABDM_HFR_URL = abdm_sandbox.url + "/v4/int"
    client.forget_session_token()
    client.gateway_request("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": live_server.url})
    return abdm_sandbox


@pytest.fixture
def hospital():
    facility = FacilityFactory(name="Sir T General Hospital")
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    return facility, staff


def _webhook(bridge, path, body, hip_id):
    response = bridge.post(
        "callbacks", {"bridgeId": settings.ABDM_CLIENT_ID, "path": path, "body": body, "headers": {"X-HIP-ID": hip_id}}
    )
    assert response.status_code == 200, response.text
    return response.json()


def _answer(kind):
    return OutboxMessage.objects.filter(kind=kind).order_by("-id").first()


def _discover(bridge, facility, patient_part):
    transaction_id = str(uuid.uuid4())
    sent = _webhook(
        bridge, m2.DISCOVER_WEBHOOK, {"transactionId": transaction_id, "patient": patient_part}, facility.facility_id
    )
    assert sent["status"] == 202, sent
    answer = _answer(m2.ON_DISCOVER_KIND)
    assert answer.body["transactionId"] == transaction_id
    assert answer.body["response"] == {"requestId": sent["requestId"]}
    return transaction_id, answer.body["patient"]


def _by_number(account):
    return {
        "id": f"{account.abha_number}@sbx",
        "verifiedIdentifiers": [{"type": "ABHA_NUMBER", "value": account.abha_number_display}],
        "name": account.full_name,
        "gender": account.gender,
        "yearOfBirth": account.year_of_birth,
    }


def _by_mobile(name, mobile, gender="F", year=1990):
    return {
        "id": "someone@sbx",
        "verifiedIdentifiers": [{"type": "MOBILE", "value": mobile}],
        "name": name,
        "gender": gender,
        "yearOfBirth": year,
    }


def test_discovery_by_abha_number_answers_reference_numbers_and_display_names_only(bridge, hospital):
    facility, staff = hospital
    patient, other = AbhaAccountFactory(), AbhaAccountFactory(mobile="9000000001")
    add_record(staff=staff, facility=facility, patient=patient, key="mine", reference="OPD-1")
    add_record(staff=staff, facility=facility, patient=other, key="theirs", reference="OPD-2")
    _transaction, [entry] = _discover(bridge, facility, _by_number(patient))
    assert set(entry) == {"referenceNumber", "display", "careContexts", "hiType", "count"}
    assert entry["careContexts"] == [{"referenceNumber": "OPD-1", "display": "OPD visit, 10 Feb 2025"}]
    assert entry["hiType"] == ["Prescription"] and entry["count"] == 1
    assert entry["display"] == patient.full_name and entry["referenceNumber"] == str(patient.uuid)


def test_discovery_with_two_close_matches_on_the_mobile_answers_no_care_contexts(bridge, hospital):
    facility, staff = hospital
    asha = AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9811111111", year_of_birth=1990)
    AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9811111111", year_of_birth=1992)  # her sister
    add_record(staff=staff, facility=facility, patient=asha, key="asha")
    _transaction, entries = _discover(bridge, facility, _by_mobile("Asha Patel", "9811111111"))
    assert entries == []
    # The same person alone on her mobile is certain.
    AbhaAccountFactory(first_name="Ravi", last_name="Shah", mobile="9822222222", gender="M", year_of_birth=1980)
    _transaction, entries = _discover(bridge, facility, _by_mobile("Asha Patel", "9833333333"))
    assert entries == []  # nobody on that mobile


def test_discover_init_confirm_links_an_old_visit_kept_by_demographics(bridge, hospital, sms_outbox):
    facility, staff = hospital
    patient = AbhaAccountFactory(first_name="Meena", last_name="Joshi", mobile="9844444444", year_of_birth=1975)
    old_visit, _created = services.record_add(
        actor=staff,
        facility=facility,
        patient=None,
        reference="OLD-2019-7",
        display="OPD visit, 07 Mar 2019",
        date=dt.date(2019, 3, 7),
        hi_type=HiType.PRESCRIPTION,
        bundle=bundle_for(HiType.PRESCRIPTION, key="old"),
        demographics={"name": "Meena Joshi", "mobile": "9844444444", "gender": "F", "year_of_birth": 1975},
    )
    transaction_id, [entry] = _discover(bridge, facility, _by_number(patient))
    assert entry["careContexts"] == [{"referenceNumber": "OLD-2019-7", "display": "OPD visit, 07 Mar 2019"}]

    sms_outbox.clear()
    init = {"transactionId": transaction_id, "abhaAddress": f"{patient.abha_number}@sbx", "patient": [entry]}
    sent = _webhook(bridge, m2.LINK_INIT_WEBHOOK, init, facility.facility_id)
    assert sent["status"] == 202, sent
    on_init = _answer(m2.ON_INIT_KIND).body
    assert on_init["response"] == {"requestId": sent["requestId"]}
    assert on_init["link"]["authenticationType"] == "DIRECT"
    assert on_init["link"]["meta"]["communicationMedium"] == "MOBILE"
    assert "9844444444" not in on_init["link"]["meta"]["communicationHint"]
    [sms] = [message for message in sms_outbox if message["to"] == "9844444444"]
    otp = next(word for word in sms["text"].split() if word.isdigit() and len(word) == 6)
    reference = on_init["link"]["referenceNumber"]

    wrong = "000000" if otp != "000000" else "111111"
    sent = _webhook(
        bridge, m2.LINK_CONFIRM_WEBHOOK, {"confirmation": {"token": wrong, "linkRefNumber": reference}},
        facility.facility_id,
    )  # fmt: skip
    refused = _answer(m2.ON_CONFIRM_KIND).body
    assert refused["patient"] == [] and refused["error"]["message"] == "Invalid OTP"
    assert CareContext.objects.get(reference="OLD-2019-7").patient is None

    sent = _webhook(
        bridge, m2.LINK_CONFIRM_WEBHOOK, {"confirmation": {"token": int(otp), "linkRefNumber": reference}},
        facility.facility_id,
    )  # fmt: skip
    assert sent["status"] == 202, sent
    confirmed = _answer(m2.ON_CONFIRM_KIND).body
    assert confirmed["response"] == {"requestId": sent["requestId"]}
    assert confirmed["patient"][0]["careContexts"] == entry["careContexts"]
    visit = CareContext.objects.get(reference="OLD-2019-7")
    assert visit.patient == patient and old_visit.care_context_id == visit.pk
    assert AbdmCareContextLink.objects.get(care_context=visit).status == AbdmLinkStatus.LINKED


def test_link_init_for_care_contexts_discovery_did_not_offer_is_refused(bridge, hospital):
    facility, staff = hospital
    patient, other = AbhaAccountFactory(), AbhaAccountFactory(mobile="9000000002")
    add_record(staff=staff, facility=facility, patient=patient, key="mine", reference="OPD-7")
    add_record(staff=staff, facility=facility, patient=other, key="theirs", reference="OPD-8")
    transaction_id, [entry] = _discover(bridge, facility, _by_number(patient))
    entry["careContexts"] = [{"referenceNumber": "OPD-8", "display": "someone else's"}]
    init = {"transactionId": transaction_id, "abhaAddress": "x@sbx", "patient": [entry]}
    sent = _webhook(bridge, m2.LINK_INIT_WEBHOOK, init, facility.facility_id)
    assert sent["status"] == 400
    assert _answer(m2.ON_INIT_KIND) is None


def test_the_citizen_discovers_and_links_an_old_visit_from_the_abha_app(bridge, sms_outbox):
    """The sandbox plays the ABHA app (/sandbox/v1/app/...): discover at the facility, pick the old visit, type the
    OTP the facility sent by SMS; the gateway's webhooks reach the portal and its answers reach the app."""
    from abha.tests.factories import known_to_sandbox

    from .test_abdm_linking import drain, hip_on_sandbox

    facility, staff = hip_on_sandbox(bridge, name="Sihor CHC")
    patient = AbhaAccountFactory(first_name="Kiran", last_name="Vyas", mobile="9855555555", year_of_birth=1968)
    known_to_sandbox(bridge, patient)
    services.record_add(
        actor=staff,
        facility=facility,
        patient=None,
        reference="OLD-2018-3",
        display="OPD visit, 03 Aug 2018",
        date=dt.date(2018, 8, 3),
        hi_type=HiType.PRESCRIPTION,
        bundle=bundle_for(HiType.PRESCRIPTION, key="old-kiran"),
        demographics={"name": "Kiran Vyas", "mobile": "9855555555", "gender": "F", "year_of_birth": 1968},
    )
    address = f"{patient.abha_number}@sbx"
    started = bridge.post("app/discover", {"abhaAddress": address, "hipId": facility.facility_id})
    assert started.status_code == 202, started.text
    transaction_id = started.json()["transactionId"]

    def flow(until):
        def settled():
            state = bridge.get(f"app/links/{transaction_id}").json()
            return state["status"] in (until, "FAILED") or (state["error"] and state["status"] == "AWAITING_OTP")

        drain(settled)
        return bridge.get(f"app/links/{transaction_id}").json()

    found = flow("DISCOVERED")
    assert found["status"] == "DISCOVERED", found
    [entry] = found["discovered"]
    assert entry["careContexts"] == [{"referenceNumber": "OLD-2018-3", "display": "OPD visit, 03 Aug 2018"}]
    sms_outbox.clear()
    assert bridge.post("app/link/init", {"transactionId": transaction_id, "patient": [entry]}).status_code == 202
    waiting = flow("AWAITING_OTP")
    assert waiting["status"] == "AWAITING_OTP", waiting
    [sms] = [message for message in sms_outbox if message["to"] == "9855555555"]
    otp = next(word for word in sms["text"].split() if word.isdigit() and len(word) == 6)
    assert bridge.post("app/link/confirm", {"transactionId": transaction_id, "otp": otp}).status_code == 202
    linked = flow("LINKED")
    answer = OutboxMessage.objects.filter(kind=m2.ON_CONFIRM_KIND).values_list("body", flat=True).first()
    assert linked["status"] == "LINKED", (linked, answer)
    assert CareContext.objects.get(reference="OLD-2018-3").patient == patient
    stats = bridge.get(f"linking/stats?hipId={facility.facility_id}").json()["hips"][0]
    assert stats["byUser"] == 1 and stats["careContexts"] == 1
