"""Issue 19 #9 and #11 on the facility page: the counters card warns when posters would carry a loopback address,
and a form further down the page that comes back with errors is summarised at the top, with links to its fields."""

import pytest

from core.enums import Role
from core.tests.factories import DistrictOfficerFactory
from facilities.enums import FacilityStatus, MembershipRole
from facilities.posters import address_is_loopback
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory
from records.tests.browser import fits_phone, signed_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
WARNING = "phones cannot open this address"


@pytest.fixture
def contexts():
    opened = []
    yield opened
    for context in opened:
        context.close()


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:9000", True),
        ("http://127.8.0.1/", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000/", True),
        ("http://LOCALHOST./", True),
        ("https://abdm.gujarat.example/", False),
        ("http://192.168.1.20:8000", False),
        ("http://10.0.0.5", False),
    ],
)
def test_loopback_addresses_are_recognised(url, loopback):
    assert address_is_loopback(url) is loopback


def test_portal_base_url_follows_port_when_unset(monkeypatch):
    import importlib

    from config.settings import base

    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "9000")
    try:
        assert importlib.reload(base).PORTAL_BASE_URL == "http://127.0.0.1:9000"
        monkeypatch.setenv("PORTAL_BASE_URL", "https://abdm.gujarat.example")
        assert importlib.reload(base).PORTAL_BASE_URL == "https://abdm.gujarat.example"
    finally:
        monkeypatch.undo()
        importlib.reload(base)


@pytest.mark.django_db
def test_counters_card_warns_only_for_a_loopback_address(client, settings):
    facility = FacilityFactory()
    CounterFactory(facility=facility, code="OPD1")
    client.force_login(MembershipFactory(facility=facility, role=MembershipRole.ADMIN).user)
    settings.PORTAL_BASE_URL = "http://127.0.0.1:9000"
    page = client.get(f"/facilities/{facility.uuid}/").content.decode()
    assert WARNING in page and "http://127.0.0.1:9000" in page
    settings.PORTAL_BASE_URL = "https://abdm.gujarat.example"
    assert WARNING not in client.get(f"/facilities/{facility.uuid}/").content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "hi", "gu"])
def test_facility_page_warning_and_error_summary_in_the_browser(
    live_server, browser, contexts, screenshot, settings, language
):
    settings.PORTAL_BASE_URL = live_server.url  # a test server: 127.0.0.1
    verified = FacilityFactory(name="Sir T Hospital")
    CounterFactory(facility=verified, code="OPD1", name="General OPD")
    admin = MembershipFactory(facility=verified, role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN).user
    submitted = FacilityFactory(name="Sihor CHC", status=FacilityStatus.SUBMITTED)
    officer = DistrictOfficerFactory()
    for viewport, name in [(PHONE, "phone"), (DESKTOP, "desktop")]:
        page = signed_in(contexts, browser, live_server, admin, viewport, language)
        page.goto(f"{live_server.url}/facilities/{verified.uuid}/")
        assert page.locator(".poster-address-warning").is_visible()
        assert fits_phone(page)
        screenshot(page, f"facility-poster-warning-{language}-{name}")

        # The officer records a decision without choosing one: the summary is at the top of the page.
        page = signed_in(contexts, browser, live_server, officer, viewport, language)
        page.goto(f"{live_server.url}/facilities/{submitted.uuid}/")
        page.locator("form[action$='/verify/'] button[type=submit]").click()
        page.wait_for_load_state()
        summary = page.locator(".error-summary")
        assert summary.count() == 1 and summary.is_visible()
        # Under the page's heading, not above it (the h1 names the page first for screen readers).
        assert page.evaluate(
            "document.querySelector('h1').compareDocumentPosition(document.querySelector('.error-summary'))"
            " & Node.DOCUMENT_POSITION_FOLLOWING"
        )
        box = summary.bounding_box()
        assert box["y"] < viewport["height"] and box["x"] + box["width"] <= viewport["width"]
        assert page.evaluate("window.scrollY") == 0
        link = summary.locator("a").first
        assert link.get_attribute("href") == "#id_decision_0"
        link.click()
        assert page.locator("#id_decision_0").is_visible()  # the link leads down to the field
        if name == "phone":
            assert page.evaluate("window.scrollY") > 0
        assert fits_phone(page)
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, f"facility-verify-errors-{language}-{name}")
