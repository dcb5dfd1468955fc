"""The issue's "done when" in a real browser: register, submit, reject, correct, resubmit, verify, counter, poster."""

import re

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from conftest import SCREENSHOTS
from core.enums import Role
from core.models import District
from core.tests.factories import DistrictOfficerFactory, UserFactory
from facilities.enums import FacilityStatus
from facilities.models import Facility

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "correct-horse-battery"


@pytest.fixture
def contexts(browser):
    """Browser contexts (one per signed-in person), closed at the end so the server's threads release the DB."""
    opened = []
    yield opened
    for context in opened:
        context.close()


def signed_in(contexts, browser, live_server, username, viewport=PHONE):
    context = browser.new_context(viewport=viewport)
    contexts.append(context)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    return page


def fits_phone(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def save(page):
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_load_state()


@pytest.mark.worker
def test_register_reject_resubmit_verify_counter_poster(
    live_server, browser, contexts, screenshot, on_hfr, celery_worker_process
):
    hfr_id = on_hfr("Ghogha Road Maternity Home")
    UserFactory(username="manager", role=Role.FACILITY_ADMIN, first_name="Nilesh", last_name="Patel")
    DistrictOfficerFactory(username="officer", districts=[District.objects.get(lgd_code=443)])
    DistrictOfficerFactory(username="ahmedabad_officer", districts=[District.objects.get(lgd_code=438)])

    # The manager registers, saving a draft at each step.
    manager = signed_in(contexts, browser, live_server, "manager")
    manager.get_by_role("link", name="Register a facility").click()
    manager.get_by_label("HFR ID").fill(hfr_id.lower())
    manager.get_by_label("Facility name").fill("Ghogha Road Eye Hospital")  # not the name HFR has
    manager.get_by_label("Ownership").select_option("P")
    manager.get_by_label("Private subtype").select_option("profit")
    manager.check("input[name=systems_of_medicine][value=modern]")
    manager.check("input[name=systems_of_medicine][value=ayurveda]")
    manager.get_by_label("Facility type").select_option("nursing_home")
    manager.get_by_label("Type of service").select_option("opd_ipd")
    manager.get_by_label("Number of beds").fill("12")
    save(manager)
    assert "HFR has this facility under the name “Ghogha Road Maternity Home”" in manager.locator("main").inner_text()
    screenshot(manager, "facility-wizard-hfr-mismatch-en-phone")
    assert fits_phone(manager)
    manager.get_by_label("Facility name").fill("Ghogha Road Maternity Home")
    screenshot(manager, "facility-wizard-basic-en-phone")
    save(manager)
    assert Facility.objects.get(name="Ghogha Road Maternity Home").status == FacilityStatus.DRAFT

    manager.get_by_label("State").select_option(label="Gujarat")
    manager.get_by_label("District").select_option(label="Bhavnagar")
    manager.get_by_label("Address").fill("Plot 4, Ghogha Road")
    manager.get_by_label("Pincode").fill("364999")
    manager.get_by_label("Latitude").fill("51.5")  # London: outside India
    manager.get_by_label("Longitude").fill("72.1519")
    manager.get_by_label("Rural or urban").select_option("urban")
    save(manager)
    assert "This latitude is outside India" in manager.locator("main").inner_text()
    screenshot(manager, "facility-wizard-location-error-en-phone")
    manager.get_by_label("Latitude").fill("21.7645")
    save(manager)

    manager.get_by_label("Contact mobile").fill("9876543210")
    manager.get_by_label("Timings").fill("Mon-Sat 09:00-20:00")
    save(manager)
    screenshot(manager, "facility-wizard-review-en-phone")
    manager.get_by_role("button", name="Submit for verification").click()
    manager.wait_for_load_state()
    facility = Facility.objects.get(name="Ghogha Road Maternity Home")
    assert facility.status == FacilityStatus.SUBMITTED
    assert facility.facility_id == hfr_id  # the ID HFR gave, never one the portal made
    assert facility.facility_id in manager.locator("main").inner_text()

    # An officer of another district sees neither the queue entry nor the page.
    outsider = signed_in(contexts, browser, live_server, "ahmedabad_officer")
    outsider.goto(live_server.url + "/facilities/queue/")
    assert "Ghogha Road" not in outsider.locator("main").inner_text()
    assert outsider.goto(f"{live_server.url}/facilities/{facility.uuid}/").status == 404

    # The Bhavnagar officer rejects it with a reason.
    officer = signed_in(contexts, browser, live_server, "officer", DESKTOP)
    officer.goto(live_server.url + "/facilities/queue/")
    screenshot(officer, "facility-queue-en-desktop")
    officer.get_by_role("link", name="Ghogha Road Maternity Home").click()
    officer.get_by_role("radio", name="Reject").check()
    officer.get_by_role("textbox", name="Reason").fill("The pincode 364999 does not exist; Ghogha Road is 364001.")
    screenshot(officer, "facility-verify-en-desktop")
    officer.get_by_role("button", name="Record decision").click()
    officer.wait_for_load_state()
    assert Facility.objects.get(pk=facility.pk).status == FacilityStatus.REJECTED

    # The manager sees the reason, corrects the pincode and resubmits.
    manager.goto(f"{live_server.url}/facilities/{facility.uuid}/")
    assert "The pincode 364999 does not exist" in manager.locator("main").inner_text()
    screenshot(manager, "facility-rejected-en-phone")
    manager.get_by_role("link", name="Correct and resubmit").click()
    save(manager)
    manager.get_by_label("Pincode").fill("364001")
    save(manager)
    save(manager)
    manager.get_by_role("button", name="Resubmit for verification").click()
    manager.wait_for_load_state()
    assert Facility.objects.get(pk=facility.pk).status == FacilityStatus.SUBMITTED

    # The officer verifies it.
    officer.goto(f"{live_server.url}/facilities/{facility.uuid}/")
    officer.get_by_role("radio", name="Approve").check()
    officer.get_by_role("button", name="Record decision").click()
    officer.wait_for_load_state()
    facility.refresh_from_db()
    assert facility.status == FacilityStatus.VERIFIED
    # ABDM confirms it as an active HIP service of the state's bridge (the outbox, sent by the worker).
    for _ in range(120):
        if Facility.objects.get(pk=facility.pk).hip_active:
            break
        officer.wait_for_timeout(250)
    assert Facility.objects.get(pk=facility.pk).hip_active

    # The manager adds a counter and prints its QR poster, which decodes to the share URL.
    manager.goto(f"{live_server.url}/facilities/{facility.uuid}/")
    manager.get_by_label("Counter code").fill("OPD1")
    manager.get_by_label("Counter name").fill("General OPD")
    manager.get_by_role("button", name="Add counter").click()
    manager.wait_for_load_state()
    screenshot(manager, "facility-verified-counter-en-phone")
    assert fits_phone(manager)
    poster_href = manager.get_by_role("link", name="QR poster (PNG)").get_attribute("href")
    poster = manager.request.get(live_server.url + poster_href)
    assert poster.ok and poster.headers["content-type"] == "image/png"
    poster_path = SCREENSHOTS / "facility-poster-OPD1.png"
    poster_path.write_bytes(poster.body())
    decoded = {code.text for code in zxingcpp.read_barcodes(Image.open(poster_path))}
    # The poster carries ABDM's share-profile QR for the ABHA app and the portal's own scan page, both with the HFR ID.
    assert f"http://127.0.0.1:8000/scan/?hip-id={facility.facility_id}&counter-id=OPD1" in decoded
    assert all(f"hip-id={facility.facility_id}&counter-id=OPD1" in text for text in decoded)

    assert "Active HIP on ABDM" in manager.locator("main").inner_text()

    # The facility page in Hindi and Gujarati, on a phone and a desktop.
    for language, check, active in [("hi", "सत्यापित", "ABDM पर सक्रिय HIP"), ("gu", "ચકાસાયેલ", "ABDM પર સક્રિય HIP")]:
        manager.locator(f"button[name=language][value={language}]").click()
        manager.wait_for_load_state()
        assert check in manager.locator("main").inner_text() and active in manager.locator("main").inner_text()
        screenshot(manager, f"facility-verified-{language}-phone")
        assert fits_phone(manager)
    manager.set_viewport_size(DESKTOP)
    screenshot(manager, "facility-verified-gu-desktop")
    manager.locator("button[name=language][value=en]").click()
    manager.wait_for_load_state()
    screenshot(manager, "facility-verified-en-desktop")


@pytest.mark.parametrize("viewport_name, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_facility_not_on_hfr_waits_as_a_draft_with_the_steps_in_three_languages(
    live_server, browser, contexts, screenshot, viewport_name, viewport
):
    from facilities.tests.factories import MembershipFactory

    UserFactory(username="manager", role=Role.FACILITY_ADMIN)
    draft = Facility.objects.create(name="Mahuva Eye Clinic", status=FacilityStatus.DRAFT)
    MembershipFactory(facility=draft, user=UserFactory._meta.model.objects.get(username="manager"), role="admin")
    manager = signed_in(contexts, browser, live_server, "manager", viewport)
    manager.goto(f"{live_server.url}/facilities/{draft.uuid}/")
    assert "Not on HFR yet." in manager.locator("main").inner_text()
    screenshot(manager, f"facility-draft-no-hfr-en-{viewport_name}")
    manager.get_by_role("link", name="How to register the facility on HFR").click()
    manager.wait_for_load_state()
    assert "facility.abdm.gov.in" in manager.locator("main").inner_text()
    screenshot(manager, f"hfr-steps-en-{viewport_name}")
    for language, heading in [("hi", "अपनी सुविधा को HFR पर पंजीकृत करें"), ("gu", "તમારી સુવિધાને HFR પર નોંધાવો")]:
        manager.locator(f"button[name=language][value={language}]").click()
        manager.wait_for_load_state()
        assert heading in manager.locator("main").inner_text()
        screenshot(manager, f"hfr-steps-{language}-{viewport_name}")
        assert fits_phone(manager) or viewport_name == "desktop"
    manager.get_by_role("link", name=re.compile("Mahuva Eye Clinic")).click()
    manager.wait_for_load_state()
    assert manager.url.endswith(f"/facilities/{draft.uuid}/edit/basic/")
    screenshot(manager, f"facility-wizard-basic-gu-{viewport_name}")


@pytest.mark.parametrize("viewport_name, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_directory_in_three_languages(live_server, page, screenshot, viewport_name, viewport):
    from facilities.tests.factories import FacilityFactory, ProfessionalFactory

    for number in range(25):
        FacilityFactory(name=f"Sardar Primary Health Centre {number:02d}", facility_type="phc")
    ProfessionalFactory(name="Dr Kiran Vora", status=FacilityStatus.VERIFIED, hpr_id="71123456789014")
    page.set_viewport_size(viewport)
    page.goto(live_server.url + "/facilities/directory/?q=sardar")
    assert "Results: 25" in page.locator("main").inner_text()
    page.get_by_role("link", name="Next").click()
    page.wait_for_load_state()
    assert "Page 2 of 2" in page.locator("main").inner_text()
    screenshot(page, f"directory-en-{viewport_name}")
    for language, word in [("hi", "परिणाम"), ("gu", "પરિણામો")]:
        page.locator(f"button[name=language][value={language}]").click()
        page.wait_for_load_state()
        assert word in page.locator("main").inner_text()
        screenshot(page, f"directory-{language}-{viewport_name}")
        assert fits_phone(page)
    page.goto(live_server.url + "/facilities/directory/?kind=professionals")
    assert "71-1234-5678-9014" in page.locator("main").inner_text()
    screenshot(page, f"directory-professionals-gu-{viewport_name}")


def test_professional_registers_with_an_hpr_id_is_rejected_resubmits_and_is_verified(
    live_server, browser, contexts, screenshot, on_hpr
):
    from facilities.models import Professional
    from facilities.tests.factories import FacilityFactory

    hpr_id = on_hpr("Hetal Shah")
    home = FacilityFactory(name="Kumbharwada Urban Health Centre")
    UserFactory(username="nurse", role=Role.FACILITY_STAFF, first_name="Hetal", last_name="Shah")
    DistrictOfficerFactory(username="officer", districts=[District.objects.get(lgd_code=443)])
    DistrictOfficerFactory(username="ahmedabad_officer", districts=[District.objects.get(lgd_code=438)])

    me = signed_in(contexts, browser, live_server, "nurse")
    me.goto(live_server.url + "/facilities/professionals/register/")
    me.get_by_label("Full name").fill("Hetal Shah")
    me.get_by_label("HPR ID").fill("71-0000-0000-0003")  # HPR does not know it
    me.locator("#id_category").select_option("nurse")
    me.get_by_label("Sub-category").select_option("rn_rm")
    me.locator("#id_council").select_option("gnc")
    me.get_by_label("Registration number").fill("GNC-7781")
    me.locator("#id_registration_date").fill("2018-04-02")
    me.get_by_label("Permanent or renewable").select_option("renewable")
    me.get_by_label("Renewal due date").fill("2028-04-01")
    me.get_by_label("Work status").select_option("government")
    me.get_by_label("District").select_option(label="Bhavnagar")
    me.get_by_label("Qualification (degree)").fill("B.Sc Nursing")
    me.get_by_label("Facilities you work at").fill(home.facility_id)
    me.get_by_role("button", name="Save draft").click()
    me.wait_for_load_state()
    assert "HPR has no professional with this ID" in me.locator("main").inner_text()
    screenshot(me, "professional-form-hpr-unknown-en-phone")
    me.get_by_label("HPR ID").fill(f"{hpr_id[:2]}-{hpr_id[2:6]}-{hpr_id[6:10]}-{hpr_id[10:]}")
    screenshot(me, "professional-form-en-phone")
    me.get_by_role("button", name="Save draft").click()
    me.wait_for_load_state()
    me.get_by_role("button", name="Submit for verification").click()
    me.wait_for_load_state()
    professional = Professional.objects.get(registration_number="GNC-7781")
    assert professional.status == "submitted"

    outsider = signed_in(contexts, browser, live_server, "ahmedabad_officer")
    assert outsider.goto(f"{live_server.url}/facilities/professionals/{professional.uuid}/").status == 404

    officer = signed_in(contexts, browser, live_server, "officer", DESKTOP)
    officer.goto(live_server.url + "/facilities/queue/")
    officer.get_by_role("link", name="Hetal Shah").click()
    officer.get_by_role("radio", name="Reject").check()
    officer.get_by_role("textbox", name="Reason").fill("Upload the council certificate.")
    officer.get_by_role("button", name="Record decision").click()
    officer.wait_for_load_state()

    me.goto(f"{live_server.url}/facilities/professionals/{professional.uuid}/")
    assert "Upload the council certificate." in me.locator("main").inner_text()
    me.get_by_role("link", name="Correct and resubmit").click()
    me.get_by_label("Registration number").fill("GNC-7782")
    me.get_by_role("button", name="Save draft").click()
    me.wait_for_load_state()
    me.get_by_role("button", name="Resubmit for verification").click()
    me.wait_for_load_state()

    officer.goto(f"{live_server.url}/facilities/professionals/{professional.uuid}/")
    officer.get_by_role("radio", name="Approve").check()
    officer.get_by_role("button", name="Record decision").click()
    officer.wait_for_load_state()
    professional.refresh_from_db()
    assert professional.status == "verified" and professional.hpr_id == hpr_id  # HPR's ID, not minted

    me.goto(f"{live_server.url}/facilities/professionals/{professional.uuid}/")
    assert professional.hpr_id_display in me.locator("main").inner_text()
    screenshot(me, "professional-verified-en-phone")
    assert fits_phone(me)
    me.locator("button[name=language][value=gu]").click()
    me.wait_for_load_state()
    screenshot(me, "professional-verified-gu-phone")


@pytest.mark.worker
def test_bulk_upload_shows_live_progress_and_the_error_report(
    live_server, page, screenshot, celery_worker_process, tmp_path
):
    from facilities.services.bulk import COLUMNS
    from facilities.tests.factories import FacilityFactory

    DistrictOfficerFactory(username="officer", districts=[District.objects.get(lgd_code=443)])
    # The state's facilities are on HFR and in the portal already: the file updates them by their HFR IDs.
    ids = [f"IN24{60_000_000 + n:08d}" for n in range(5000)]
    Facility.objects.bulk_create([FacilityFactory.build(facility_id=ids[n], name=f"PHC {n}") for n in range(5000)])
    rows = [",".join(COLUMNS)]
    rows += [f"{ids[n]},PHC {n},phc,G,443,,{364001 + n % 300},,6,,,,," for n in range(5000)]
    rows[10] = f"{ids[9]},PHC bad,phc,G,443,,12,,,,,,,"
    path = tmp_path / "bulk-upload.csv"
    path.write_text("\n".join(rows) + "\n")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("officer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/facilities/bulk/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/facilities/bulk/*/")
    # The poller fills in the figures without a reload.
    # expect() polls from Playwright's side: wait_for_function would eval() in the page, which the CSP refuses.
    expect(page.locator("#bulk-status")).to_have_text("Done", timeout=60000)
    assert page.locator("#bulk-updated").inner_text() == "4999"
    assert page.locator("#bulk-errors").inner_text() == "1"
    assert page.get_by_role("link", name="Download the error report (CSV)").is_visible()
    screenshot(page, "bulk-done-en-phone")
    assert fits_phone(page)


@pytest.mark.parametrize("viewport_name, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
@pytest.mark.parametrize(
    "language, name_differs, hpr_unknown",
    [
        ("en", "HFR has this facility under the name", "HPR has no professional with this ID"),
        ("hi", "HFR में यह सुविधा", "HPR में इस ID का कोई"),
        ("gu", "HFR માં આ સુવિધા", "HPR માં આ ID નો કોઈ"),
    ],
)
def test_hfr_and_hpr_refusals_in_three_languages(
    live_server, browser, contexts, screenshot, on_hfr, viewport_name, viewport, language, name_differs, hpr_unknown
):
    hfr_id = on_hfr("Sihor Maternity Home")
    UserFactory(username="manager", role=Role.FACILITY_ADMIN)
    page = signed_in(contexts, browser, live_server, "manager", viewport)
    if language != "en":
        page.locator(f"button[name=language][value={language}]").click()
        page.wait_for_load_state()
    page.goto(live_server.url + "/facilities/register/")
    page.locator("#id_facility_id").fill(hfr_id)
    page.locator("#id_name").fill("Sihor Eye Clinic")
    page.locator("#id_beds").fill("4")
    page.locator("main button.primary[type=submit]").click()
    page.wait_for_load_state()
    assert name_differs in page.locator("main").inner_text()
    screenshot(page, f"facility-wizard-hfr-mismatch-{language}-{viewport_name}")
    assert fits_phone(page) or viewport_name == "desktop"

    page.goto(live_server.url + "/facilities/professionals/register/")
    page.locator("#id_hpr_id").fill("71-0000-0000-0004")
    page.locator("#id_name").fill("Hetal Shah")
    page.locator("#id_category").select_option("nurse")
    page.locator("main button.primary[type=submit]").click()
    page.wait_for_load_state()
    assert hpr_unknown in page.locator("main").inner_text()
    screenshot(page, f"professional-form-hpr-unknown-{language}-{viewport_name}")
    assert fits_phone(page) or viewport_name == "desktop"
