"""The "Done when" flow of issue 5 in a real browser (Debian's Chromium via Playwright).

Staff add records at two facilities; a doctor at a third requests consent; the citizen (in
Gujarati, on a phone) narrows and grants; the doctor reads only what was granted; the citizen
sees the read; revokes; the doctor is refused; an expired artefact is refused without the beat task.
"""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone

from abha.tests.factories import AbhaAccountFactory
from core.enums import Role
from core.tests.factories import UserFactory
from facilities.enums import MembershipRole
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records.enums import HiType
from records.models import ConsentArtefact

from .browser import signed_in as _signed_in
from .factories import bundle_for, request_consent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _add_record(page, live_server, tmp_path, *, patient, reference, date, hi_type):
    page.goto(live_server.url + "/records/add/")
    page.fill("#id_patient", patient)
    page.fill("#id_reference", reference)
    page.fill("#id_display", f"OPD visit, {date}")
    page.fill("#id_date", date)
    page.select_option("#id_hi_type", hi_type)
    upload = tmp_path / f"{reference}.json"
    upload.write_text(json.dumps(bundle_for(hi_type)))  # ABDM's sample without its own patient's ABHA number
    page.set_input_files("#id_bundle_file", str(upload))
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    errors = page.locator(".field-error, .form-errors").all_inner_texts()
    assert page.url == live_server.url + "/records/", errors


def _fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _tables_fit(page):
    """No table scrolls sideways inside its frame either (on a phone the tables become cards)."""
    return page.evaluate("[...document.querySelectorAll('.table-wrap')].every(w => w.scrollWidth <= w.clientWidth + 1)")


def test_consent_flow_in_the_browser(live_server, browser, contexts, screenshot, tmp_path):
    facility_a = FacilityFactory(name="Sir Takhtsinhji General Hospital")
    facility_b = FacilityFactory(name="Sihor Community Health Centre")
    facility_c = FacilityFactory(name="Civil Hospital Ahmedabad")
    staff_a = MembershipFactory(facility=facility_a, user__role=Role.FACILITY_STAFF, user__first_name="Kavita").user
    staff_b = MembershipFactory(facility=facility_b, user__role=Role.FACILITY_STAFF, user__first_name="Jignesh").user
    doctor = UserFactory(role=Role.DOCTOR, first_name="Anjali", last_name="Mehta")
    MembershipFactory(facility=facility_c, user=doctor, role=MembershipRole.DOCTOR)
    patient = AbhaAccountFactory(first_name="Asha", last_name="Patel")
    address = patient.addresses.first().full

    # 1. Staff add records at two facilities.
    page_a = _signed_in(contexts, browser, live_server, staff_a, DESKTOP)
    _add_record(
        page_a,
        live_server,
        tmp_path,
        patient=patient.abha_number,
        reference="STG-1",
        date="2025-02-10",
        hi_type=HiType.PRESCRIPTION,
    )
    _add_record(
        page_a,
        live_server,
        tmp_path,
        patient=patient.abha_number,
        reference="STG-2",
        date="2025-03-05",
        hi_type=HiType.DIAGNOSTIC_REPORT,
    )
    assert "STG-1" in page_a.content() and "STG-2" in page_a.content()
    screenshot(page_a, "records-facility-home-desktop")
    page_b = _signed_in(contexts, browser, live_server, staff_b, PHONE)
    _add_record(
        page_b,
        live_server,
        tmp_path,
        patient=address,
        reference="SIHOR-9",
        date="2025-01-20",
        hi_type=HiType.OP_CONSULTATION,
    )
    screenshot(page_b, "records-facility-home-phone")
    assert _fits(page_b) and _tables_fit(page_b)

    # 2. A doctor at a third facility requests consent through the portal's consent API (issue 5; the request page
    # now goes to ABDM's consent manager, records/tests/test_hiu_sandbox.py) and sees it on their list.
    request_consent(
        doctor=doctor,
        patient=patient,
        hi_types=[HiType.PRESCRIPTION, HiType.DIAGNOSTIC_REPORT, HiType.OP_CONSULTATION],
        date_from=dt.date(2025, 1, 1),
        date_to=dt.date(2025, 3, 31),
        access_mode="STORE",  # to download a copy below, the consent must allow it
    )
    doctor_page = _signed_in(contexts, browser, live_server, doctor, DESKTOP)
    doctor_page.goto(live_server.url + "/records/requests/new/")
    screenshot(doctor_page, "records-request-new-desktop")
    doctor_page.goto(live_server.url + "/records/requests/")
    assert address in doctor_page.content()

    # 3. The citizen, in Gujarati on a phone, narrows (prescriptions from facility A only) and grants.
    citizen = _signed_in(contexts, browser, live_server, patient.user, PHONE, language="gu")
    citizen.goto(live_server.url + "/records/me/consents/")
    assert citizen.locator("html").get_attribute("lang") == "gu"
    assert "Anjali Mehta" in citizen.locator(".consent-sentence").first.inner_text()
    assert citizen.locator(".consent-store").count() >= 1  # told that a copy may be kept, and until when
    screenshot(citizen, "records-consent-inbox-gu-phone")
    assert _fits(citizen)
    citizen.click("a[href*='/records/me/consents/']")
    citizen.uncheck(f"input[name=hi_types][value={HiType.DIAGNOSTIC_REPORT}]")
    citizen.uncheck(f"input[name=hi_types][value={HiType.OP_CONSULTATION}]")
    citizen.uncheck(f"input[name=facilities][value={facility_b.facility_id}]")
    screenshot(citizen, "records-consent-answer-gu-phone")
    assert _fits(citizen)
    citizen.click("button[name=grant]")
    citizen.wait_for_url(live_server.url + "/records/me/consents/")
    [artefact] = ConsentArtefact.objects.all()
    assert artefact.hi_types == [HiType.PRESCRIPTION] and artefact.source_facility == facility_a

    # 4. The doctor reads only what was granted, rendered readably.
    doctor_page.goto(live_server.url + "/records/requests/")
    screenshot(doctor_page, "records-doctor-requests-desktop")
    doctor_phone = _signed_in(contexts, browser, live_server, doctor, PHONE)
    doctor_phone.goto(live_server.url + "/records/requests/")
    assert "Treatment (care management)" in doctor_phone.locator("main").inner_text()
    assert _fits(doctor_phone) and _tables_fit(doctor_phone)
    screenshot(doctor_phone, "records-doctor-requests-phone")
    doctor_page.click(f"a[href='/records/artefacts/{artefact.uuid}/']")
    records = doctor_page.locator("article.record")
    assert records.count() == 1
    assert records.first.get_attribute("data-hi-type") == HiType.PRESCRIPTION
    text = records.first.inner_text()
    assert "Azithromycin" in text and "Prescription record" in text and '"resourceType"' not in text
    screenshot(doctor_page, "records-artefact-read-desktop")
    with doctor_page.expect_download() as download:
        doctor_page.click("text=Download the FHIR bundle (JSON)")
    assert json.loads(Path(download.value.path()).read_text())["resourceType"] == "Bundle"

    # 5. The citizen sees the reads in "who accessed my data".
    citizen.goto(live_server.url + "/records/me/access-log/")
    rows = citizen.locator(".access-log .access-entry")
    assert rows.count() == 2  # the page view and the bundle download
    assert "Anjali Mehta" in rows.first.inner_text() and "Civil Hospital Ahmedabad" in rows.first.inner_text()
    screenshot(citizen, "records-access-log-gu-phone")
    assert _fits(citizen)

    # 6. The citizen revokes; the doctor's next read is refused.
    citizen.goto(live_server.url + "/records/me/consents/")
    citizen.click("form[action*='/revoke/'] button")
    citizen.wait_for_url(live_server.url + "/records/me/consents/")
    doctor_page.goto(live_server.url + f"/records/artefacts/{artefact.uuid}/")
    assert doctor_page.locator("[data-code=consent_inactive]").count() == 1
    assert doctor_page.locator("article.record").count() == 0
    screenshot(doctor_page, "records-refused-desktop")

    # 7. An expired artefact is refused at once, without the beat task.
    from records.services import consent_grant

    second = request_consent(doctor=doctor, patient=patient, hi_types=[HiType.OP_CONSULTATION])
    _request, [expiring] = consent_grant(
        actor=patient.user, request_uuid=second.uuid, facility_ids=[facility_b.facility_id]
    )
    doctor_page.goto(live_server.url + f"/records/artefacts/{expiring.uuid}/")
    assert doctor_page.locator("article.record").count() == 1
    ConsentArtefact.objects.filter(pk=expiring.pk).update(data_erase_at=timezone.now() - dt.timedelta(seconds=1))
    doctor_page.goto(live_server.url + f"/records/artefacts/{expiring.uuid}/")
    assert doctor_page.locator("[data-code=consent_inactive]").count() == 1
    assert ConsentArtefact.objects.get(pk=expiring.pk).status == "GRANTED"
