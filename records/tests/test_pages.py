"""The HTML pages: who may open each one, and the consent flow through forms."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from records.enums import HiType
from records.models import ConsentArtefact, HealthRecord

from .factories import bundle_for, request_consent

STAFF_PAGES = ["records:facility_home", "records:record_add", "records:facility_patient"]
DOCTOR_PAGES = ["records:doctor_requests", "records:request_new", "records:btg_new"]
CITIZEN_PAGES = ["records:citizen_consents", "records:access_log", "records:my_records", "records:link_find"]


@pytest.mark.parametrize("name", STAFF_PAGES + DOCTOR_PAGES + CITIZEN_PAGES)
def test_anonymous_is_sent_to_sign_in(world, client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "who, allowed",
    [
        ("staff_a", STAFF_PAGES),
        ("doctor", STAFF_PAGES + DOCTOR_PAGES),
        ("citizen", CITIZEN_PAGES),
    ],
)
def test_each_role_opens_its_pages_only(world, client, who, allowed):
    client.force_login(getattr(world, who))
    for name in STAFF_PAGES + DOCTOR_PAGES + CITIZEN_PAGES:
        status = client.get(reverse(name)).status_code
        assert status == (200 if name in allowed else 403), (who, name, status)


def test_staff_add_a_bundle_and_a_pdf(world, client):
    client.force_login(world.staff_a)
    import json

    bundle = SimpleUploadedFile("rx.json", json.dumps(bundle_for(HiType.PRESCRIPTION, key="page-1")).encode())
    data = {
        "facility": world.a.pk,
        "patient": world.patient.abha_number,
        "reference": "PAGE-1",
        "display": "OPD visit",
        "date": "2025-02-03",
        "hi_type": HiType.PRESCRIPTION,
        "bundle_file": bundle,
    }
    response = client.post(reverse("records:record_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    pdf = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    data.update(reference="PAGE-2", hi_type=HiType.HEALTH_DOCUMENT_RECORD, bundle_file="", document=pdf)
    data.pop("bundle_file")
    response = client.post(reverse("records:record_add"), data)
    assert response.status_code == 302
    assert HealthRecord.objects.filter(care_context__reference__in=["PAGE-1", "PAGE-2"]).count() == 2
    page = client.get(reverse("records:facility_home")).content.decode()
    assert "PAGE-1" in page and "PAGE-2" in page


def test_a_bad_bundle_shows_its_errors_on_the_form(world, client):
    client.force_login(world.staff_a)
    import json

    bad = bundle_for(HiType.PRESCRIPTION)
    bad["type"] = "collection"
    data = {
        "facility": world.a.pk,
        "patient": world.patient.abha_number,
        "reference": "PAGE-BAD",
        "display": "OPD visit",
        "date": "2025-02-03",
        "hi_type": HiType.PRESCRIPTION,
        "bundle_file": SimpleUploadedFile("bad.json", json.dumps(bad).encode()),
    }
    response = client.post(reverse("records:record_add"), data)
    assert response.status_code == 200
    assert "document bundle" in response.content.decode()


def test_citizen_narrows_and_grants_then_doctor_reads_then_citizen_revokes(world, client):
    consent_request = request_consent(doctor=world.doctor, patient=world.patient)
    client.force_login(world.citizen)
    inbox = client.get(reverse("records:citizen_consents")).content.decode()
    assert "Anjali Mehta" in inbox and "Civil Hospital Ahmedabad" in inbox
    url = reverse("records:consent_answer", args=[consent_request.uuid])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "hi_types": [HiType.PRESCRIPTION],
            "date_from": "2025-02-01",
            "date_to": "2025-02-28",
            "data_erase_at": (timezone.localtime() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
            "facilities": [world.a.facility_id],
            "grant": "1",
        },
    )
    assert response.status_code == 302
    artefact = ConsentArtefact.objects.get()
    client.force_login(world.doctor)
    page = client.get(reverse("records:artefact_records", args=[artefact.uuid]))
    assert page.status_code == 200
    assert page.content.decode().count("data-record=") == 1
    assert "Azithromycin" in page.content.decode()  # rendered, not raw JSON
    raw = client.get(reverse("records:artefact_record_bundle", args=[artefact.uuid, world.records.a_rx.uuid]))
    assert raw.status_code == 403  # granted for viewing, not for storing a copy
    client.force_login(world.citizen)
    log = client.get(reverse("records:access_log")).content.decode()
    assert "Anjali Mehta" in log
    client.post(reverse("records:artefact_revoke", args=[artefact.uuid]))
    client.force_login(world.doctor)
    refused = client.get(reverse("records:artefact_records", args=[artefact.uuid]))
    assert refused.status_code == 403 and 'data-code="consent_inactive"' in refused.content.decode()


def test_other_people_cannot_open_an_artefact_or_answer_a_request(world, client):
    consent_request = request_consent(doctor=world.doctor, patient=world.patient)
    client.force_login(world.other_citizen)
    assert client.get(reverse("records:consent_answer", args=[consent_request.uuid])).status_code == 404
    client.force_login(world.citizen)
    client.post(reverse("records:consent_answer", args=[consent_request.uuid]), {"deny": "1"})
    consent_request.refresh_from_db()
    assert consent_request.status == "DENIED"
    granted = request_consent(doctor=world.doctor, patient=world.patient)
    from records.services import consent_grant

    _r, artefacts = consent_grant(actor=world.citizen, request_uuid=granted.uuid)
    artefacts = [a for a in artefacts if a.source_facility == world.a]
    # The source facility's staff know the consent exists (403); everyone else learns nothing (404).
    for user, status in ((world.other_doctor, 404), (world.colleague, 404), (world.staff_a, 403)):
        client.force_login(user)
        assert client.get(reverse("records:artefact_records", args=[artefacts[0].uuid])).status_code == status


def test_emergency_access_page_needs_a_reason(world, client):
    client.force_login(world.doctor)
    response = client.post(
        reverse("records:btg_new"), {"patient": world.patient.abha_number, "reason": "", "facility": world.c.pk}
    )
    assert response.status_code == 200
    response = client.post(
        reverse("records:btg_new"),
        {"patient": world.patient.abha_number, "reason": "Unconscious after a road accident", "facility": world.c.pk},
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.content.decode().count("data-record=") == 5


def _unlinked(world, reference, name):
    from records.services import record_add

    record, _created = record_add(
        actor=world.staff_a,
        facility=world.a,
        patient=None,
        reference=reference,
        display=f"OPD {reference}",
        date=dt.date(2023, 5, 1),
        hi_type=HiType.PRESCRIPTION,
        bundle=bundle_for(HiType.PRESCRIPTION, key=reference),
        demographics={
            "name": name,
            "mobile": world.patient.mobile,
            "gender": world.patient.gender,
            "year_of_birth": world.patient.year_of_birth,
        },
    )
    return record.care_context


def _otp(outbox):
    return next(word for word in outbox[-1]["text"].split() if word.isdigit() and len(word) == 6)


def test_citizen_links_an_older_visit_in_the_browser_pages(
    world, client, sms_outbox, django_capture_on_commit_callbacks
):
    strong = _unlinked(world, "OLD-P1", world.patient.full_name)
    weak = _unlinked(world, "OLD-P2", "Ashaben P.")
    client.force_login(world.citizen)
    page = client.get(reverse("records:link_find"), {"facility": world.a.facility_id}).content.decode()
    assert "OPD OLD-P1" in page and "OPD OLD-P2" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("records:link_find"), {"facility": world.a.facility_id, "care_contexts": [str(strong.uuid)]}
        )
    assert response.status_code == 302
    response = client.post(response["Location"], {"otp": _otp(sms_outbox)})
    assert response.status_code == 302 and response["Location"] == reverse("records:my_records")
    assert "OPD OLD-P1" in client.get(reverse("records:my_records")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("records:link_find"), {"facility": world.a.facility_id, "care_contexts": [str(weak.uuid)]}
        )
    client.post(response["Location"], {"otp": _otp(sms_outbox)})
    client.force_login(world.staff_a)
    home = client.get(reverse("records:facility_home")).content.decode()
    assert "Ashaben P." in home
    from records.models import LinkRequest

    link = LinkRequest.objects.get(status="needs_review")
    client.post(reverse("records:link_review", args=[link.uuid]), {"approve": "1"})
    weak.refresh_from_db()
    assert weak.patient == world.patient


def test_the_doctors_request_page_sends_it_to_abdm_for_one_hip(world, client):
    """The one consent request page goes to ABDM's consent manager (records.hiu): no request of the portal's own."""
    from records.models import ConsentRequest, HiuConsentRequest

    client.force_login(world.doctor)
    data = {
        "patient": world.patient.addresses.first().full,
        "purpose": "CAREMGT",
        "hi_types": [HiType.PRESCRIPTION],
        "date_from": "2025-01-01",
        "date_to": "2025-03-31",
        "data_erase_at": (timezone.localtime() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
        "access_mode": "VIEW",
        "frequency_unit": "HOUR",
        "frequency_value": 1,
        "frequency_repeats": 0,
        "facility": world.c.pk,
        "hip_id": "IN24 not an id",
    }
    page = client.get(reverse("records:request_new")).content.decode()
    assert "the patient answers in their ABHA app" in page
    response = client.post(reverse("records:request_new"), data)
    assert response.status_code == 200 and "field-error" in response.content.decode()
    data["hip_id"] = world.a.facility_id
    assert client.post(reverse("records:request_new"), data).status_code == 302
    made = HiuConsentRequest.objects.get()
    assert made.hip_id == world.a.facility_id and made.status == "QUEUED" and made.facility == world.c
    assert not ConsentRequest.objects.exists()
    data["date_to"] = "2024-01-01"  # before date_from: the service's rule shows on the form
    response = client.post(reverse("records:request_new"), data)
    assert response.status_code == 200 and "field-error" in response.content.decode()


def test_a_patients_records_are_asked_for_in_a_post_never_in_the_url(world, client):
    """The ABHA number in a query string would be in every access log and in the browser's history."""
    client.force_login(world.staff_a)
    page = reverse("records:facility_patient")
    shown = "This view is recorded and shown to the patient."
    assert shown not in client.get(page, {"patient": world.patient.abha_number}).content.decode()
    response = client.post(page, {"patient": world.patient.abha_number})
    assert response.status_code == 200 and shown in response.content.decode()
    assert world.records.a_rx.uuid in {item["record"].uuid for item in response.context["records"]}
    assert f'<form method="post" action="{page}"' in client.get(reverse("records:facility_home")).content.decode()
    assert 'method="get"' not in client.get(page).content.decode()


def test_access_ends_is_typed_day_first_not_in_the_browsers_month_first_picker():
    from records.forms import ConsentRequestForm

    field = ConsentRequestForm.base_fields["data_erase_at"]
    assert field.widget.input_type == "text"
    assert field.clean("01-02-2027 10:30").strftime("%d %B %Y %H:%M") == "01 February 2027 10:30"
    assert field.clean("2027-02-01T10:30").day == 1  # the ISO form older pages and scripts send


def test_the_citizens_consents_page_is_abdms_view_with_the_portals_own_requests_only_when_there_are_any(world, client):
    """ABDM's consent manager answers for the citizen (the ABHA app); the portal's own requests, left behind the
    issue-5 API, show only when the citizen has some."""
    client.force_login(world.citizen)
    page = client.get(reverse("records:citizen_consents")).content.decode()
    assert "Requests through ABDM" in page and "Open the ABHA app" in page
    assert "Waiting for your answer" not in page and "What you have shared" not in page
    request_consent(doctor=world.doctor, patient=world.patient)
    page = client.get(reverse("records:citizen_consents")).content.decode()
    assert "Waiting for your answer" in page and "What you have shared" not in page


def test_the_doctors_list_shows_the_portals_own_requests_only_when_there_are_any(world, client):
    client.force_login(world.doctor)
    page = client.get(reverse("records:doctor_requests")).content.decode()
    assert "Requests through ABDM" in page and "<h2>Requests</h2>" not in page
    request_consent(doctor=world.doctor, patient=world.patient)
    page = client.get(reverse("records:doctor_requests")).content.decode()
    assert "<h2>Requests</h2>" in page and world.patient.addresses.first().full in page
