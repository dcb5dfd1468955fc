"""The home page in a real browser (Debian's Chromium via Playwright), in all three languages."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize("viewport_name, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_home_page_switches_language_in_the_browser(live_server, page, screenshot, viewport_name, viewport):
    page.set_viewport_size(viewport)
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "Your health, your records, your consent"
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot(page, f"home-en-{viewport_name}")

    page.locator("button[name=language][value=hi]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "hi"
    assert "आपका स्वास्थ्य" in page.locator("h1").inner_text()
    screenshot(page, f"home-hi-{viewport_name}")

    page.get_by_role("button", name="ગુજરાતી").click()  # the switcher names each language in its own script
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "gu"
    assert "તમારું સ્વાસ્થ્ય" in page.locator("h1").inner_text()
    screenshot(page, f"home-gu-{viewport_name}")
    # Nothing on the page is left in English once Gujarati is chosen, except names and "API".
    body = page.locator("main").inner_text()
    assert "For citizens" not in body and "For hospitals" not in body

    # The page fits a phone: no horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_staff_sign_in_in_the_browser(live_server, page, screenshot):
    from core.tests.factories import StateOfficialFactory

    StateOfficialFactory(username="meera", first_name="Meera", last_name="Desai")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("meera")
    page.get_by_label("Password").fill("correct-horse-battery")
    screenshot(page, "login-en-phone")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    assert "Meera Desai" in page.locator("header").inner_text()
    page.goto(live_server.url + "/admin/")
    assert "Site administration" in page.content()


def test_api_docs_load_offline_in_the_browser(live_server, page):
    external = []
    page.on(
        "request", lambda request: external.append(request.url) if not request.url.startswith(live_server.url) else None
    )
    page.goto(live_server.url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)
    assert "ABDM State Portal API" in page.locator(".swagger-ui .info").inner_text()
    assert not [url for url in external if not url.startswith("data:")]
