"""The pages whose scripts moved out of the templates still work under the strict CSP, with no violation reported."""

import datetime

import pytest
from playwright.sync_api import expect

from abha.tests.factories import AbhaAccountFactory
from core import counters
from core.enums import Role
from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory, UserFactory
from facilities.enums import FacilityStatus, MembershipRole
from facilities.models import BulkUpload
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory
from microsites.models import Milestone
from microsites.tests.factories import MicrositeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PASSWORD = "correct-horse-battery"


@pytest.fixture
def violations(page):
    """Every CSP violation the page reports: Chromium's console error and the DOM event, both recorded."""
    seen = []

    def on_console(message):
        if "Content Security Policy" in message.text or "CSP violation" in message.text:
            seen.append(message.text)

    page.on("console", on_console)
    # Init scripts are injected by the browser itself, so the policy under test does not block this listener.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) {"
        " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI); });"
    )
    page.set_viewport_size(PHONE)
    return seen


def _staff_sign_in(page, live_server, username):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")


def test_enrollment_address_check_runs_from_its_static_script(
    live_server, page, violations, sms_outbox, screenshot, abdm_sandbox
):
    from abha.tests.conftest import define_resident

    person = define_resident(abdm_sandbox)  # an Aadhaar holder at the sandbox's UIDAI
    page.goto(live_server.url + "/abha/enrol/")
    page.locator("input[name=agree]").check()
    page.locator("form button.primary").click()
    page.locator("input[name=aadhaar]").fill(person.aadhaar)
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/enrol/otp/")
    page.locator("input[name=otp]").fill(abdm_sandbox.last_otp(person.mobile))
    page.locator("input[name=mobile]").fill(person.mobile)
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/enrol/address/")

    page.locator("input[name=custom]").fill("asha.csp")
    page.wait_for_selector("#address-status.abha-ok")
    assert page.locator("#choice-custom").is_checked()  # typing selects "Type your own"
    screenshot(page, "csp-enrol-address-en-phone")
    assert violations == []


def test_citizen_add_address_check_runs_from_its_static_script(live_server, page, violations, abdm_sandbox):
    from abha.tests.conftest import new_mobile
    from abha.tests.factories import give_abdm_session

    mobile = new_mobile()  # an ABHA ABDM (the sandbox) knows, alone on its mobile: sign-in goes straight home
    give_abdm_session(AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile=mobile), abdm_sandbox)
    page.goto(live_server.url + "/abha/signin/")
    page.locator("input[name=login_id]").fill(mobile)
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/signin/otp/")
    page.locator("input[name=otp]").fill(abdm_sandbox.last_otp(mobile))
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/me/")
    page.goto(live_server.url + "/abha/me/addresses/add/")
    page.locator("input[name=abha_address]").fill("asha.second")
    page.wait_for_selector("#address-status.abha-ok")
    assert violations == []


def test_facility_location_button_and_scan_queue_htmx_work(live_server, page, violations):
    manager = UserFactory(username="manager", role=Role.FACILITY_ADMIN)
    draft = FacilityFactory(status=FacilityStatus.DRAFT, facility_id=None)
    MembershipFactory(facility=draft, user=manager, role=MembershipRole.ADMIN)
    verified = FacilityFactory()
    MembershipFactory(facility=verified, user=manager, role=MembershipRole.ADMIN)
    CounterFactory(facility=verified, code="OPD1")
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 21.7645, "longitude": 72.1519})
    _staff_sign_in(page, live_server, "manager")

    page.goto(f"{live_server.url}/facilities/{draft.uuid}/edit/location/")
    page.get_by_role("button", name="Use this device's location").click()
    expect(page.locator("#id_latitude")).to_have_value("21.764500")  # not wait_for_function: it needs eval()
    assert page.locator("#id_longitude").input_value() == "72.151900"

    # htmx polls the queue (hx-trigger="every 3s") without its injected <style> or eval.
    with page.expect_request(lambda request: "/scan-queue/" in request.url and request.headers.get("hx-request")):
        page.goto(f"{live_server.url}/facilities/{verified.uuid}/scan-queue/")
    assert violations == []


def test_bulk_upload_progress_polls_from_its_static_script(live_server, page, violations):
    officer = DistrictOfficerFactory(username="officer")
    upload = BulkUpload.objects.create(uploaded_by=officer, file="bulk/facilities/x.csv", original_name="x.csv")
    _staff_sign_in(page, live_server, "officer")
    with page.expect_request(f"**/facilities/bulk/{upload.uuid}/status/"):
        page.goto(f"{live_server.url}/facilities/bulk/{upload.uuid}/")
    assert violations == []


def test_microsite_progress_bar_and_admin_render_without_violations(live_server, page, violations, screenshot):
    StateOfficialFactory(username="meera", is_superuser=True)
    microsite = MicrositeFactory(name="Bhavnagar", districts=[443])
    FacilityFactory.create_batch(2)
    counters.rebuild(fix=True)  # factories bypass the services that keep the counters
    Milestone.objects.create(
        microsite=microsite, metric="facilities_verified", target=4, due_date=datetime.date(2030, 1, 1)
    )
    _staff_sign_in(page, live_server, "meera")
    page.goto(f"{live_server.url}/microsites/{microsite.uuid}/")
    assert page.locator(".milestone .progress rect").get_attribute("width") == "50"
    assert page.locator(".milestone .progress").bounding_box()["width"] > 100
    screenshot(page, "csp-microsite-progress-en-phone")
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("#content")
    assert violations == []


def test_swagger_ui_works_under_its_own_policy(live_server, page, violations, screenshot):
    StateOfficialFactory(username="meera")
    _staff_sign_in(page, live_server, "meera")
    page.goto(live_server.url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "ABDM State Portal API" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector(".opblock-tag")
    screenshot(page, "csp-api-docs-en-phone")
    assert violations == []


def test_a_locked_out_sign_in_says_so(live_server, page, violations, screenshot, settings):
    settings.LOGIN_ACCOUNT_MAX_FAILURES = 2
    UserFactory(username="officer9")
    for password in ["wrong-one", "wrong-two", PASSWORD]:
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Username").fill("officer9")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
    assert "Too many failed sign-ins" in page.locator(".form-errors").inner_text()
    screenshot(page, "login-locked-out-en-phone")
    assert violations == []
