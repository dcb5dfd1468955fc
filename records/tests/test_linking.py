"""Patient-initiated linking: older visits kept by demographics, claimed by the citizen with an OTP;
strong matches link at once, weak ones wait for the facility's review."""

import datetime as dt

import pytest
from django.utils import timezone

from abdm import linking as m2
from abdm.models import OutboxMessage
from core.tests.sms_backends import gateway_down
from records.enums import HiType
from records.linking.models import AbdmCareContextLink, AbdmLinkStatus
from records.models import CareContext, HealthRecord, LinkRequest

from .factories import bundle_for

pytestmark = pytest.mark.django_db

RECORDS = "/api/v1/records/"


def _old_visit(api_as, world, reference, name, **demographics):
    body = {
        "facility": world.a.facility_id,
        "demographics": {
            "name": name,
            "mobile": world.patient.mobile,
            "gender": world.patient.gender,
            "year_of_birth": world.patient.year_of_birth,
            **demographics,
        },
        "care_context": {"reference": reference, "display": f"OPD {reference}", "date": "2023-05-01"},
        "hi_type": HiType.PRESCRIPTION,
        "bundle": bundle_for(HiType.PRESCRIPTION, key=reference),
    }
    response = api_as(world.staff_a).post(RECORDS, body, format="json")
    assert response.status_code == 201, response.json()
    return CareContext.objects.get(reference=reference)


@pytest.fixture
def old_visits(world, api_as):
    full_name = world.patient.full_name
    return {
        "strong": _old_visit(api_as, world, "OLD-1", full_name.upper()),
        "weak": _old_visit(api_as, world, "OLD-2", "A. Patel"),
        "other": _old_visit(api_as, world, "OLD-3", full_name, year_of_birth=1950),
    }


def _otp(sms_outbox):
    return next(word for word in sms_outbox[-1]["text"].split() if word.isdigit() and len(word) == 6)


def _start(api_as, world, care_contexts, capture):
    with capture(execute=True):
        response = api_as(world.citizen).post(
            "/api/v1/records/links/",
            {"facility": world.a.facility_id, "care_contexts": [str(cc.uuid) for cc in care_contexts]},
            format="json",
        )
    return response


def test_unlinked_records_are_invisible_until_linked(world, api_as, old_visits):
    assert api_as(world.citizen).get(RECORDS).json()["count"] == 5
    assert HealthRecord.objects.filter(patient__isnull=True).count() == 3
    # Demographics are required when no ABHA is given.
    body = {
        "facility": world.a.facility_id,
        "demographics": {"name": "X", "mobile": "12", "gender": "Q", "year_of_birth": 1990},
        "care_context": {"reference": "BAD", "display": "x", "date": "2023-01-01"},
        "hi_type": "Prescription",
        "bundle": bundle_for("Prescription"),
    }
    response = api_as(world.staff_a).post(RECORDS, body, format="json")
    assert response.status_code == 400


def test_discovery_matches_on_mobile_gender_year_and_grades_the_name(world, api_as, old_visits):
    response = api_as(world.citizen).get("/api/v1/records/links/discover/", {"facility": world.a.facility_id})
    assert response.status_code == 200
    matches = {m["care_context"]: m["match"] for m in response.json()["matches"]}
    assert matches == {str(old_visits["strong"].uuid): "strong", str(old_visits["weak"].uuid): "weak"}
    # Someone sharing the mobile, gender and year of birth (a twin) only ever gets weak matches: review.
    twin = api_as(world.other_citizen).get("/api/v1/records/links/discover/", {"facility": world.a.facility_id})
    assert {m["match"] for m in twin.json()["matches"]} == {"weak"}
    type(world.patient).objects.filter(user=world.other_citizen).update(mobile="9123456780")
    stranger = api_as(world.other_citizen).get("/api/v1/records/links/discover/", {"facility": world.a.facility_id})
    assert stranger.json()["matches"] == []
    assert (
        api_as(world.staff_a).get("/api/v1/records/links/discover/", {"facility": world.a.facility_id}).status_code
        == 403
    )


def test_a_strong_match_links_after_the_otp(world, api_as, old_visits, sms_outbox, django_capture_on_commit_callbacks):
    response = _start(api_as, world, [old_visits["strong"]], django_capture_on_commit_callbacks)
    assert response.status_code == 201 and response.json()["status"] == "otp_sent"
    assert sms_outbox[-1]["to"] == world.patient.mobile
    link = response.json()["uuid"]
    wrong = api_as(world.citizen).post(f"/api/v1/records/links/{link}/confirm/", {"otp": "000000"}, format="json")
    assert wrong.status_code == 400 and LinkRequest.objects.get(uuid=link).failed_attempts == 1
    other = api_as(world.other_citizen).post(f"/api/v1/records/links/{link}/confirm/", {"otp": _otp(sms_outbox)})
    assert other.status_code == 404
    right = api_as(world.citizen).post(
        f"/api/v1/records/links/{link}/confirm/", {"otp": _otp(sms_outbox)}, format="json"
    )
    assert right.status_code == 200 and right.json()["status"] == "linked"
    assert api_as(world.citizen).get(RECORDS).json()["count"] == 6
    # Claimed here, linked on ABDM too: the care context waits for the facility's link call (a link token first).
    on_abdm = AbdmCareContextLink.objects.get(care_context=old_visits["strong"])
    assert (on_abdm.patient, on_abdm.facility, on_abdm.status) == (world.patient, world.a, AbdmLinkStatus.PENDING)
    assert OutboxMessage.objects.filter(kind=m2.TOKEN_KIND).exists()
    again = api_as(world.citizen).post(
        f"/api/v1/records/links/{link}/confirm/", {"otp": _otp(sms_outbox)}, format="json"
    )
    assert again.status_code == 409


def test_a_weak_match_waits_for_the_facility_review(
    world, api_as, old_visits, sms_outbox, django_capture_on_commit_callbacks
):
    link = _start(api_as, world, [old_visits["weak"]], django_capture_on_commit_callbacks).json()["uuid"]
    confirmed = api_as(world.citizen).post(
        f"/api/v1/records/links/{link}/confirm/", {"otp": _otp(sms_outbox)}, format="json"
    )
    assert confirmed.json()["status"] == "needs_review"
    assert api_as(world.citizen).get(RECORDS).json()["count"] == 5  # not linked yet
    review = api_as(world.staff_a).get("/api/v1/records/links/review/").json()["results"]
    assert [r["uuid"] for r in review] == [link] and review[0]["care_contexts"][0]["name_given"] == "A. Patel"
    assert api_as(world.staff_b).get("/api/v1/records/links/review/").json()["results"] == []
    assert api_as(world.staff_b).post(f"/api/v1/records/links/{link}/review/", {"approve": True}).status_code == 404
    assert api_as(world.citizen).post(f"/api/v1/records/links/{link}/review/", {"approve": True}).status_code == 403
    approved = api_as(world.staff_a).post(f"/api/v1/records/links/{link}/review/", {"approve": True}, format="json")
    assert approved.json()["status"] == "linked"
    assert api_as(world.citizen).get(RECORDS).json()["count"] == 6
    assert AbdmCareContextLink.objects.filter(care_context=old_visits["weak"], patient=world.patient).exists()


def test_a_rejected_weak_match_links_nothing(world, api_as, old_visits, sms_outbox, django_capture_on_commit_callbacks):
    link = _start(api_as, world, [old_visits["weak"]], django_capture_on_commit_callbacks).json()["uuid"]
    api_as(world.citizen).post(f"/api/v1/records/links/{link}/confirm/", {"otp": _otp(sms_outbox)}, format="json")
    rejected = api_as(world.staff_a).post(f"/api/v1/records/links/{link}/review/", {"approve": False}, format="json")
    assert rejected.json()["status"] == "rejected"
    assert CareContext.objects.get(pk=old_visits["weak"].pk).patient is None


def test_visits_that_do_not_match_cannot_be_claimed(world, api_as, old_visits, django_capture_on_commit_callbacks):
    response = _start(api_as, world, [old_visits["other"]], django_capture_on_commit_callbacks)
    assert response.status_code == 400
    response = _start(api_as, world, [world.records.a_rx.care_context], django_capture_on_commit_callbacks)
    assert response.status_code == 400


def test_an_expired_otp_and_too_many_wrong_tries_end_the_request(
    world, api_as, old_visits, sms_outbox, django_capture_on_commit_callbacks
):
    link = _start(api_as, world, [old_visits["strong"]], django_capture_on_commit_callbacks).json()["uuid"]
    client = api_as(world.citizen)
    for _ in range(5):
        client.post(f"/api/v1/records/links/{link}/confirm/", {"otp": "000000"}, format="json")
    assert LinkRequest.objects.get(uuid=link).status == "failed"
    assert (
        client.post(f"/api/v1/records/links/{link}/confirm/", {"otp": _otp(sms_outbox)}, format="json").status_code
        == 409
    )
    link = _start(api_as, world, [old_visits["strong"]], django_capture_on_commit_callbacks).json()["uuid"]
    LinkRequest.objects.filter(uuid=link).update(otp_expires_at=timezone.now() - dt.timedelta(seconds=1))
    expired = client.post(f"/api/v1/records/links/{link}/confirm/", {"otp": _otp(sms_outbox)}, format="json")
    assert expired.status_code == 409 and expired.json()["error"]["code"] == "otp_expired"


def test_linking_otps_are_rate_limited(world, api_as, old_visits, django_capture_on_commit_callbacks):
    statuses = [
        _start(api_as, world, [old_visits["strong"]], django_capture_on_commit_callbacks).status_code for _ in range(6)
    ]
    assert statuses == [201] * 5 + [429]


def test_an_sms_gateway_down_after_commit_still_answers_201_and_keeps_the_link_request(
    world, api_as, old_visits, settings, monkeypatch, django_capture_on_commit_callbacks
):
    retries = gateway_down(settings, monkeypatch)
    response = _start(api_as, world, [old_visits["strong"]], django_capture_on_commit_callbacks)
    assert response.status_code == 201 and response.json()["status"] == "otp_sent"
    assert LinkRequest.objects.filter(uuid=response.json()["uuid"]).exists()
    assert [retry["to"] for retry in retries] == [world.patient.mobile]


def test_a_visit_whose_bundle_names_another_abha_is_never_linked_to_the_claimant(
    world, api_as, sms_outbox, django_capture_on_commit_callbacks
):
    """Kept by demographics (name, mobile, gender and year all the claimant's), but its bundle's Patient carries
    someone else's ABHA number: the later link is checked like a record filed directly, and refused."""
    from abha.tests.factories import AbhaAccountFactory

    someone_else = AbhaAccountFactory()
    visit = _old_visit(api_as, world, "OLD-X", world.patient.full_name)
    HealthRecord.objects.filter(care_context=visit).update(
        bundle=bundle_for(HiType.PRESCRIPTION, key="OLD-X", patient=someone_else)
    )
    response = _start(api_as, world, [visit], django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.json()
    link = response.json()["uuid"]
    confirm = api_as(world.citizen).post(
        f"/api/v1/records/links/{link}/confirm/", {"otp": _otp(sms_outbox)}, format="json"
    )
    assert confirm.status_code == 409 and confirm.json()["error"]["code"] == "bundle_other_patient"
    visit.refresh_from_db()
    assert visit.patient_id is None
    assert not HealthRecord.objects.filter(care_context=visit, patient__isnull=False).exists()
