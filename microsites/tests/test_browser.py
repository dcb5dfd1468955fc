"""The state dashboard and a microsite in a real browser, in all three languages."""

import re

import pytest

from abha.tests.factories import AbhaAccountFactory
from core import counters
from core.tests.factories import StateOfficialFactory
from facilities.tests.factories import FacilityFactory
from microsites.tests.factories import MicrositeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    page.locator("#id_username").fill("meera")
    page.locator("#id_password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")


@pytest.mark.parametrize(
    "viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}], ids=["phone", "desktop"]
)
def test_state_official_sees_the_dashboard_and_adds_a_milestone(live_server, page, screenshot, viewport):
    StateOfficialFactory(username="meera", first_name="Meera", last_name="Desai")
    AbhaAccountFactory.create_batch(3)
    FacilityFactory.create_batch(2)
    microsite = MicrositeFactory(name="Bhavnagar", districts=[443])
    counters.rebuild(fix=True)  # factories bypass the services that keep the counters
    page.set_viewport_size(viewport)
    name = "phone" if viewport["width"] < 600 else "desktop"
    _sign_in(page, live_server)

    for language, heading in [("en", "State dashboard"), ("hi", "राज्य डैशबोर्ड"), ("gu", "રાજ્ય ડેશબોર્ડ")]:
        page.goto(live_server.url + "/dashboard/")
        page.locator(f"button[name=language][value={language}]").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == heading
        assert page.locator(".headline .figure").first.inner_text() == "3"
        assert page.locator(".bar-chart rect").count() == 33
        screenshot(page, f"dashboard-{language}-{name}")

    page.locator("button[name=language][value=en]").click()
    page.goto(f"{live_server.url}/microsites/{microsite.uuid}/")
    page.locator("#id_metric").select_option("facilities_verified")
    page.locator("#id_target").fill("2")
    page.locator("#id_due_date").fill("2025-06-30")
    page.get_by_role("button", name="Add milestone").click()
    page.wait_for_load_state()
    assert "Milestone added." in page.content()
    assert page.locator(".milestone .badge").inner_text() == "Achieved"
    screenshot(page, f"microsite-en-{name}")
    with page.expect_download() as download:
        page.goto(live_server.url + "/dashboard/")
        page.get_by_role("link", name=re.compile("coverage by district")).click()
    assert download.value.suggested_filename == "abha-coverage-by-district.csv"
