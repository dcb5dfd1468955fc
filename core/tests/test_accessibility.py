"""Automated accessibility checks of the main flows in Chromium: axe-core (from the npm registry, pinned in
package-lock.json and installed by `npm ci` in scripts/test.sh) is injected into each page and must find
no serious or critical violation, on a phone and on a desktop.

Flows: the ABHA enrollment wizard, Scan & Share on the counter's QR page, the citizen's consent inbox,
the facility registration wizard and the state dashboard.
"""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from abha.tests.factories import AbhaAccountFactory
from core import counters
from core.enums import Role
from core.tests.factories import StateOfficialFactory
from facilities.enums import FacilityStatus, MembershipRole
from facilities.posters import share_url
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory
from microsites.tests.factories import MicrositeFactory
from records import services as record_services
from records.enums import HiType
from records.tests.factories import add_record
from scanshare.services import display_key_rotate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
FAILING_IMPACTS = ("serious", "critical")


@pytest.fixture
def browser_context_args(browser_context_args):
    # The portal's Content-Security-Policy refuses inline scripts; axe is injected as one, by the test only.
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request, page):
    page.set_viewport_size(VIEWPORTS[request.param])
    return request.param


def _report(violations) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:8]:
            lines.append(f"    at {' '.join(node['target'])}")
            lines.append(f"       {node['html'][:160]}")
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"       {summary[:300]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    ... and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page, name: str, screenshot=None):
    """Runs axe on the page as it is now; fails listing every serious or critical violation."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make test does) to install axe-core.")
    page.wait_for_load_state()
    if page.evaluate("typeof window.axe") == "undefined":
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    failing = [v for v in result["violations"] if v["impact"] in FAILING_IMPACTS]
    if screenshot is not None:
        screenshot(page, f"a11y-{name}")
    assert not failing, f"axe found serious or critical problems on {name} ({page.url}):\n{_report(failing)}"


def _sign_in(page, live_server, user):
    """Gives the page's browser context a session for `user` (as force_login would)."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}]
    )


def _language(page, live_server, language):
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])


def test_enrollment_wizard(live_server, page, viewport, screenshot, sms_outbox, abdm_sandbox):
    from abha.tests.conftest import define_resident, new_mobile

    person, other = define_resident(abdm_sandbox), new_mobile()  # an Aadhaar holder at the sandbox's UIDAI
    page.goto(live_server.url + "/")
    assert_accessible(page, f"home-{viewport}", screenshot)
    page.goto(live_server.url + "/abha/enrol/")
    assert_accessible(page, f"enrol-1-consent-{viewport}", screenshot)
    page.locator("form button.primary").click()  # without agreeing: the error state
    page.locator(".field-error").first.wait_for()  # the errors re-render the same URL
    assert_accessible(page, f"enrol-1-consent-error-{viewport}", screenshot)
    page.locator("input[name=agree]").check()
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/enrol/aadhaar/")
    assert_accessible(page, f"enrol-2-aadhaar-{viewport}", screenshot)
    page.locator("form button.primary").click()  # empty: the field's error
    page.locator(".field-error").first.wait_for()  # the errors re-render the same URL
    assert_accessible(page, f"enrol-2-aadhaar-error-{viewport}", screenshot)
    page.locator("input[name=aadhaar]").fill(person.aadhaar)
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/enrol/otp/")
    page.locator("input[name=otp]").fill("000000")
    page.locator("input[name=mobile]").fill(other)
    page.locator("form button.primary").click()
    page.locator(".field-error").first.wait_for()
    assert_accessible(page, f"enrol-3-otp-wrong-{viewport}", screenshot)
    page.locator("input[name=otp]").fill(abdm_sandbox.last_otp(person.mobile))
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/enrol/mobile/")  # not the Aadhaar-linked mobile: ABDM checks it
    assert_accessible(page, f"enrol-4-mobile-{viewport}", screenshot)
    page.locator("input[name=otp]").fill(abdm_sandbox.last_otp(other))
    page.locator("form button.primary").first.click()
    page.wait_for_url("**/abha/enrol/address/")
    page.locator("input[name=custom]").fill(f"asha.a{new_mobile()[-7:]}")
    page.wait_for_selector("#address-status.abha-ok")
    assert_accessible(page, f"enrol-5-address-{viewport}", screenshot)
    page.locator("form#address-form button.primary").click()
    page.wait_for_url("**/abha/enrol/done/")
    assert_accessible(page, f"enrol-6-done-{viewport}", screenshot)


def test_scan_and_share(live_server, page, viewport, screenshot, sms_outbox, settings, abdm_sandbox):
    counter = CounterFactory(facility=FacilityFactory(name="Sir T Hospital"), code="OPD1", name="General OPD")
    staff = MembershipFactory(facility=counter.facility, user__role=Role.FACILITY_STAFF).user
    from abha.tests.factories import give_abdm_session

    citizen = AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9876500001")
    give_abdm_session(citizen, abdm_sandbox)  # an ABHA ABDM knows: the sign-in OTP is ABDM's
    settings.PORTAL_BASE_URL = live_server.url
    queue = f"{live_server.url}/facilities/{counter.facility.uuid}/scan-queue/?counter=OPD1"
    _sign_in(page, live_server, staff)
    page.goto(queue)
    assert_accessible(page, f"scan-0-queue-empty-{viewport}", screenshot)
    page.context.clear_cookies()
    page.goto(live_server.url + "/facilities/scan/help/")
    assert_accessible(page, f"scan-0-help-{viewport}", screenshot)
    page.goto(share_url(counter))
    assert_accessible(page, f"scan-1-signin-{viewport}", screenshot)
    page.locator("input[name=login_id]").fill(citizen.abha_number)
    page.locator("form button.primary").click()
    page.locator("input[name=otp]").wait_for()
    assert_accessible(page, f"scan-2-otp-{viewport}", screenshot)
    page.locator("input[name=otp]").fill(abdm_sandbox.last_otp("9876500001"))
    page.locator("form button.primary").click()
    page.locator(".scan-consent").wait_for()
    assert_accessible(page, f"scan-3-profile-{viewport}", screenshot)
    page.locator("button[name=share]").click()
    page.locator(".scan-token-number").wait_for()
    assert_accessible(page, f"scan-4-token-{viewport}", screenshot)
    page.goto(live_server.url + "/facilities/scan/history/")
    assert_accessible(page, f"scan-5-history-{viewport}", screenshot)

    # The staff side: the counter queue (refreshed by htmx) and the waiting-hall display.
    page.context.clear_cookies()
    _sign_in(page, live_server, staff)
    page.goto(queue)
    page.locator("tr[data-token='1']").wait_for()
    assert_accessible(page, f"scan-6-queue-{viewport}", screenshot)
    page.goto(f"{live_server.url}/facilities/{counter.facility.uuid}/scan-display/OPD1/")
    assert_accessible(page, f"scan-7-display-{viewport}", screenshot)
    # The waiting hall's TV: the kiosk page, reached by its display key without a session.
    admin = MembershipFactory(facility=counter.facility, role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN)
    key = display_key_rotate(counter=counter, actor=admin.user)
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/display/{key}/")
    assert_accessible(page, f"scan-7b-kiosk-{viewport}", screenshot)
    _sign_in(page, live_server, staff)
    page.goto(live_server.url + "/records/")  # the staff's records home, where a visit's record is added
    assert_accessible(page, f"scan-8-records-home-{viewport}", screenshot)


def test_consent_inbox(live_server, page, viewport, screenshot):
    source = FacilityFactory(name="Sir T General Hospital")
    staff = MembershipFactory(facility=source, user__role=Role.FACILITY_STAFF).user
    doctor = MembershipFactory(
        facility=FacilityFactory(name="Civil Hospital"), role=MembershipRole.DOCTOR, user__role=Role.DOCTOR
    ).user
    patient = AbhaAccountFactory(first_name="Asha", last_name="Patel")
    add_record(staff=staff, facility=source, patient=patient, hi_type=HiType.PRESCRIPTION, key="rx")

    def ask():
        return record_services.consent_request_create(
            actor=doctor,
            patient_identifier=patient.addresses.first().full,
            purpose="CAREMGT",
            hi_types=[HiType.PRESCRIPTION, HiType.DIAGNOSTIC_REPORT],
            date_from=dt.date(2025, 1, 1),
            date_to=dt.date(2025, 3, 31),
            data_erase_at=timezone.now() + dt.timedelta(days=30),
        )

    _granted, artefacts = record_services.consent_grant(actor=patient.user, request_uuid=ask().uuid)
    pending = ask()
    _sign_in(page, live_server, patient.user)
    page.goto(live_server.url + "/records/me/consents/")
    assert_accessible(page, f"consents-1-inbox-{viewport}", screenshot)
    page.goto(f"{live_server.url}/records/me/consents/{pending.uuid}/")
    assert_accessible(page, f"consents-2-answer-{viewport}", screenshot)
    page.goto(live_server.url + "/records/me/access-log/")
    assert_accessible(page, f"consents-3-access-log-{viewport}", screenshot)
    page.goto(live_server.url + "/records/me/")
    assert_accessible(page, f"consents-4-my-records-{viewport}", screenshot)
    # The doctor reads what was granted.
    page.context.clear_cookies()
    _sign_in(page, live_server, doctor)
    page.goto(f"{live_server.url}/records/artefacts/{artefacts[0].uuid}/")
    assert_accessible(page, f"consents-5-doctor-reads-{viewport}", screenshot)


def test_facility_registration_wizard(live_server, page, viewport, screenshot):
    manager = MembershipFactory(
        facility=FacilityFactory(name="Existing Clinic"), role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN
    ).user
    draft = FacilityFactory(name="Ghogha Road Maternity Home", status=FacilityStatus.DRAFT, facility_id=None)
    MembershipFactory(facility=draft, user=manager, role=MembershipRole.ADMIN)
    _sign_in(page, live_server, manager)
    page.goto(live_server.url + "/facilities/")
    assert_accessible(page, f"facility-0-mine-{viewport}", screenshot)
    page.goto(live_server.url + "/facilities/register/")
    assert_accessible(page, f"facility-1-basic-{viewport}", screenshot)
    page.locator("form button.primary").first.click()  # empty: every field's error
    page.locator(".field-error").first.wait_for()  # the errors re-render the same URL
    assert_accessible(page, f"facility-1-basic-errors-{viewport}", screenshot)
    for step in ("location", "contact"):
        page.goto(f"{live_server.url}/facilities/{draft.uuid}/edit/{step}/")
        assert_accessible(page, f"facility-2-{step}-{viewport}", screenshot)
    page.goto(f"{live_server.url}/facilities/{draft.uuid}/review/")
    assert_accessible(page, f"facility-3-review-{viewport}", screenshot)
    page.goto(f"{live_server.url}/facilities/{draft.uuid}/")
    assert_accessible(page, f"facility-4-detail-{viewport}", screenshot)


def test_state_dashboard(live_server, page, viewport, screenshot):
    official = StateOfficialFactory()
    AbhaAccountFactory.create_batch(3)
    FacilityFactory.create_batch(2)
    MicrositeFactory(name="Bhavnagar", districts=[443])
    counters.rebuild(fix=True)  # factories bypass the services that keep the counters
    _sign_in(page, live_server, official)
    page.goto(live_server.url + "/dashboard/")
    assert_accessible(page, f"dashboard-{viewport}", screenshot)
    page.goto(live_server.url + "/microsites/")
    assert_accessible(page, f"microsites-{viewport}", screenshot)


@pytest.mark.parametrize("language", ["hi", "gu"])
def test_main_pages_in_hindi_and_gujarati(live_server, page, viewport, screenshot, language):
    """Translated text changes lengths, wrapping and the page's `lang`; the same checks hold in each language."""
    counter = CounterFactory(facility=FacilityFactory(name="Sir T Hospital"), code="OPD1", name="General OPD")
    _language(page, live_server, language)
    for name, path in [
        ("home", "/"),
        ("enrol-consent", "/abha/enrol/"),
        ("signin", "/abha/signin/"),
        ("scan-signin", "/scan/?" + share_url(counter).split("?", 1)[1]),
        ("directory", "/facilities/directory/"),
        ("achievements", "/achievements/"),
    ]:
        page.goto(live_server.url + path)
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page, f"{language}-{name}-{viewport}", screenshot)
    _sign_in(page, live_server, StateOfficialFactory())
    page.goto(live_server.url + "/dashboard/")
    assert_accessible(page, f"{language}-dashboard-{viewport}", screenshot)
