"""Scan & Share through ABDM in a real browser: the staff queue (desktop and phone width) shows the token a patient
got by sharing from the ABHA app (the sandbox's app side), arriving without a reload, with ABDM's profile."""

import pytest

from abha.tests.factories import AbhaAccountFactory, known_to_sandbox
from core.enums import Role
from facilities.enums import MembershipRole
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory
from scanshare.models import ScanToken

from .test_abdm_share import bridge, hip_on_sandbox, share  # noqa: F401 - bridge is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "correct-horse-battery"


def _fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _signed_in_queue(browser, live_server, viewport, facility):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("desk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(f"{live_server.url}/facilities/{facility.uuid}/scan-queue/?counter=OPD1")
    return page


def test_the_queue_shows_the_token_of_an_abha_app_share(bridge, live_server, browser, screenshot):  # noqa: F811
    facility = FacilityFactory(name="Sir T Hospital", facility_id=hip_on_sandbox(bridge, "Sir T Hospital"))
    CounterFactory(facility=facility, code="OPD1", name="General OPD")
    MembershipFactory(
        facility=facility, role=MembershipRole.STAFF, user__username="desk", user__role=Role.FACILITY_STAFF
    )
    asha = AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9876500001")
    known_to_sandbox(bridge, asha)

    desk = _signed_in_queue(browser, live_server, DESKTOP, facility)
    assert desk.locator("tr[data-token]").count() == 0
    desk.evaluate("window.notReloaded = true")

    result = share(bridge, asha, facility.facility_id, "OPD1")
    token = ScanToken.objects.get()
    assert result["tokenNumber"] == str(token.number) == "1"

    row = desk.locator('tr[data-token="1"]')
    row.wait_for(timeout=10_000)  # htmx's poll brings it in
    assert desk.evaluate("window.notReloaded") is True
    assert "Asha Patel" in row.inner_text() and "ABHA app" in row.inner_text()
    assert f"{asha.abha_number}@sbx" in row.inner_text()
    screenshot(desk, "abdm-share-queue-desktop")

    phone = _signed_in_queue(browser, live_server, PHONE, facility)
    phone.locator('tr[data-token="1"]').wait_for()
    assert _fits(phone)
    screenshot(phone, "abdm-share-queue-phone")
