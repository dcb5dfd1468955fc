"""Scan & Share's "done when" in a real browser: a citizen scans the poster URL on a phone (in Gujarati), signs in
with the OTP on the scan page and shares; the staff queue shows the token arrive without a reload; staff call and
complete it, and the TV display shows it."""

import pytest

from abha.tests.factories import AbhaAccountFactory, give_abdm_session
from core.enums import Role
from facilities.enums import MembershipRole
from facilities.posters import share_url
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory
from scanshare.enums import TokenStatus
from scanshare.models import ScanToken

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "correct-horse-battery"


def _otp(outbox, mobile):
    message = [m for m in outbox if m["to"] == mobile][-1]
    return next(word for word in message["text"].split() if word.isdigit() and len(word) == 6)


def _fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_scan_sign_in_share_then_staff_call_and_complete(
    live_server, browser, screenshot, sms_outbox, settings, abdm_sandbox
):
    facility = FacilityFactory(name="Sir T Hospital", facility_id="IN2410000123")
    counter = CounterFactory(facility=facility, code="OPD1", name="General OPD")
    MembershipFactory(
        facility=facility, role=MembershipRole.STAFF, user__username="desk", user__role=Role.FACILITY_STAFF
    )
    citizen = give_abdm_session(
        AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9876500001"), abdm_sandbox
    )
    settings.PORTAL_BASE_URL = live_server.url

    # The staff member opens the counter queue on a desktop before anyone has scanned.
    staff_context = browser.new_context(viewport=DESKTOP)
    staff = staff_context.new_page()
    staff.goto(live_server.url + "/accounts/login/")
    staff.get_by_label("Username").fill("desk")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    staff.wait_for_url(live_server.url + "/")
    staff.goto(f"{live_server.url}/facilities/{facility.uuid}/scan-queue/?counter=OPD1")
    assert staff.locator("tr[data-token]").count() == 0
    staff.evaluate("window.notReloaded = true")

    # The citizen's phone, in Gujarati, opens the poster's QR URL.
    phone_context = browser.new_context(viewport=PHONE, locale="gu-IN")
    phone = phone_context.new_page()
    phone.goto(share_url(counter))
    assert phone.locator("html").get_attribute("lang") == "gu"
    assert "Sir T Hospital" in phone.content()
    screenshot(phone, "scan-1-signin-gu-phone")
    phone.locator("input[name=login_id]").fill(citizen.abha_number)
    phone.locator("form button.primary").click()
    phone.locator("input[name=otp]").wait_for()
    phone.locator("input[name=otp]").fill(abdm_sandbox.last_otp("9876500001"))  # ABDM's sign-in OTP
    screenshot(phone, "scan-2-otp-gu-phone")
    phone.locator("form button.primary").click()
    phone.locator(".scan-consent").wait_for()
    assert "તમે ઉપરની માહિતી Sir T Hospital સાથે શેર કરવા સંમત છો." in phone.locator(".scan-consent").inner_text()
    assert "98xxxxxx01" in phone.content() and _fits(phone)
    screenshot(phone, "scan-3-profile-gu-phone")
    phone.locator("button[name=share]").click()
    phone.locator(".scan-token-number").wait_for()
    assert phone.locator(".scan-token-number").inner_text() == "1"
    assert "કાઉન્ટર OPD1" in phone.content() and _fits(phone)
    screenshot(phone, "scan-4-token-gu-phone")
    phone.evaluate("window.notReloaded = true")

    # The queue shows the token arrive by htmx polling, without a reload.
    staff.locator("tr[data-token='1']").wait_for(timeout=10_000)
    assert staff.evaluate("window.notReloaded") is True
    assert "Asha Patel" in staff.locator("tr[data-token='1']").inner_text()
    screenshot(staff, "scan-5-queue-desktop")
    staff.get_by_role("button", name="Call next at OPD1").click()
    staff.wait_for_load_state()
    assert ScanToken.objects.get().status == TokenStatus.CALLED
    # The citizen's token page follows by itself (htmx polls it) and says where to go.
    phone.locator(".scan-called").wait_for(timeout=10_000)
    assert "OPD1" in phone.locator(".scan-called").inner_text()
    assert "રાહ" not in phone.locator("#token-status .badge").inner_text()  # the status badge follows too
    assert phone.evaluate("window.notReloaded") is True
    screenshot(phone, "scan-4b-token-called-gu-phone")

    # The waiting-hall TV shows it in large type.
    tv = staff_context.new_page()
    tv.set_viewport_size({"width": 1920, "height": 1080})
    tv.goto(f"{live_server.url}/facilities/{facility.uuid}/scan-display/OPD1/")
    assert tv.locator(".scan-board-number").inner_text() == "1"
    screenshot(tv, "scan-6-tv-display")

    staff.locator("tr[data-token='1']").get_by_role("button", name="Done").click()
    staff.wait_for_load_state()
    assert ScanToken.objects.get().status == TokenStatus.DONE
    screenshot(staff, "scan-7-queue-done-desktop")
    phone_context.close()
    staff_context.close()
