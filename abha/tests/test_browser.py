"""The enrollment wizard through ABDM (the local sandbox over HTTP) and citizen sign-in in a real browser (Debian's
Chromium), in 3 languages, on a phone and a desktop."""

import pytest

from abha.models import AbhaAccount

from .conftest import new_mobile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("geography")]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _choose_language(page, language):
    if language != "en":
        page.locator(f"button[name=language][value={language}]").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == language


def _fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize(
    "language, viewport_name, viewport, heading",
    [
        ("en", "phone", PHONE, "Your ABHA is ready"),
        ("gu", "phone", PHONE, "તમારું ABHA તૈયાર છે"),
        ("hi", "desktop", DESKTOP, "आपका ABHA तैयार है"),
    ],
)
def test_enrol_end_to_end_in_the_browser(
    live_server, page, screenshot, resident, abdm_sandbox, language, viewport_name, viewport, heading
):
    person = resident(name="આશા પટેલ" if language == "gu" else "Asha Patel")
    page.set_viewport_size(viewport)
    page.goto(live_server.url + "/")
    _choose_language(page, language)
    page.locator("a.task-card[href='/abha/enrol/']").click()
    tag = f"{language}-{viewport_name}"
    screenshot(page, f"abha-enrol-1-consent-{tag}")
    page.locator("input[name=agree]").check()
    page.locator("form button.primary").click()

    page.wait_for_url("**/abha/enrol/aadhaar/")
    page.locator("input[name=aadhaar]").fill(f"{person.aadhaar[:4]} {person.aadhaar[4:8]} {person.aadhaar[8:]}")
    screenshot(page, f"abha-enrol-2-aadhaar-{tag}")
    page.locator("form button.primary").click()

    page.wait_for_url("**/abha/enrol/otp/")
    assert person.mobile[-4:] in page.locator("main").inner_text()  # ABDM named the Aadhaar-linked mobile
    page.locator("input[name=otp]").fill("000000")
    page.locator("input[name=mobile]").fill(person.mobile)
    page.locator("form button.primary").click()
    page.locator(".field-error").first.wait_for()  # the answer re-renders this same URL: wait for it
    assert page.locator(".field-error").count() == 1  # wrong OTP: said on the field, the mobile kept
    assert page.locator("input[name=mobile]").input_value() == person.mobile
    page.locator("input[name=otp]").fill(abdm_sandbox.last_otp(person.mobile))
    screenshot(page, f"abha-enrol-3-otp-{tag}")
    page.locator("form button.primary").click()

    page.wait_for_url("**/abha/enrol/address/")
    assert page.locator("input[name=choice]").count() >= 5  # 3+ of ABDM's suggestions, the default, your own
    typed = f"asha.b{new_mobile()[-7:]}"
    page.locator("input[name=custom]").fill(typed)
    page.wait_for_selector("#address-status.abha-ok")
    screenshot(page, f"abha-enrol-5-address-{tag}")
    page.locator("form#address-form button.primary").click()

    page.wait_for_url("**/abha/enrol/done/")
    assert page.locator("h1").inner_text() == heading
    account = AbhaAccount.objects.get()
    assert page.get_by_test_id("abha-number").inner_text() == account.abha_number_display
    assert f"{typed}@sbx" in page.locator("main").inner_text()
    assert page.evaluate("document.querySelector('img.abha-card').naturalWidth") == 1012  # ABDM's card
    assert _fits(page)
    screenshot(page, f"abha-enrol-6-done-{tag}")

    page.goto(live_server.url + "/abha/me/")
    assert account.abha_number_display in page.locator("main").inner_text()
    assert _fits(page)
    screenshot(page, f"abha-home-{tag}")


def test_another_mobile_is_verified_then_an_existing_aadhaar_is_told_in_gujarati(
    live_server, page, screenshot, resident, abdm_sandbox, browser
):
    person, other = resident(), new_mobile()
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/abha/enrol/")
    _choose_language(page, "gu")
    page.locator("input[name=agree]").check()
    page.locator("form button.primary").click()
    page.locator("input[name=aadhaar]").fill(person.aadhaar)
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/enrol/otp/")
    page.locator("input[name=otp]").fill(abdm_sandbox.last_otp(person.mobile))
    page.locator("input[name=mobile]").fill(other)
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/enrol/mobile/")
    screenshot(page, "abha-enrol-4-mobile-gu-phone")
    page.locator("input[name=otp]").fill(abdm_sandbox.last_otp(other))
    page.locator("form button.primary").first.click()
    page.wait_for_url("**/abha/enrol/address/")
    page.locator("input[value=default]").check()
    page.locator("form#address-form button.primary").click()
    page.wait_for_url("**/abha/enrol/done/")
    number = AbhaAccount.objects.get().abha_number_display

    # The same Aadhaar again, in another browser: ABDM gives the ABHA back, the page says so and signs in.
    again = browser.new_page(viewport=PHONE)
    again.goto(live_server.url + "/abha/enrol/")
    _choose_language(again, "gu")
    again.locator("input[name=agree]").check()
    again.locator("form button.primary").click()
    again.locator("input[name=aadhaar]").fill(person.aadhaar)
    again.locator("form button.primary").click()
    again.wait_for_url("**/abha/enrol/otp/")
    again.locator("input[name=otp]").fill(abdm_sandbox.last_otp(person.mobile))
    again.locator("input[name=mobile]").fill(other)
    again.locator("form button.primary").click()
    again.wait_for_url("**/abha/enrol/done/")
    assert "તમારી પાસે પહેલેથી ABHA છે" in again.locator("h1").inner_text()
    assert again.get_by_test_id("abha-number").inner_text() == number
    assert _fits(again)
    screenshot(again, "abha-enrol-existing-aadhaar-gu-phone")
    again.close()


def test_citizen_signs_in_through_abdm_and_downloads_the_card(live_server, page, screenshot, otp_api, abdm_sandbox):
    body = otp_api.enrol()
    mobile = body["person"].mobile
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/abha/signin/")
    _choose_language(page, "gu")
    page.locator("input[name=login_id]").fill(body["abha_number"])
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/signin/otp/")
    page.locator("input[name=otp]").fill(abdm_sandbox.last_otp(mobile))
    screenshot(page, "abha-signin-otp-gu-phone")
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/me/")
    assert body["abha_number"] in page.locator("main").inner_text()
    assert page.evaluate("document.querySelector('img.abha-card').naturalWidth") == 1012
    assert _fits(page)
    screenshot(page, "abha-signed-in-home-gu-phone")
    with page.expect_download() as download:
        page.locator("a[href='/abha/me/card.pdf']").click()
    assert download.value.suggested_filename == "abha-card-" + body["abha_number"].replace("-", "") + ".pdf"


def test_a_taken_address_shows_one_error_line_and_typing_picks_type_your_own(
    live_server, page, otp_api, resident, abdm_sandbox
):
    taken = f"asha.t{new_mobile()[-7:]}"
    otp_api.enrol(abha_address=taken)
    person = resident()
    page.set_viewport_size(PHONE)
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
    page.locator("input[name=custom]").fill(taken)
    assert page.locator("#choice-custom").is_checked()  # typing picked "Type your own"
    page.wait_for_selector("#address-status.field-error")
    page.locator("form#address-form button.primary").click()
    page.wait_for_load_state()
    page.wait_for_timeout(600)  # the live check would have answered by now
    errors = page.locator(".field-error:visible")
    assert errors.count() == 1 and "taken" in errors.inner_text()


def test_switching_language_keeps_what_was_typed(live_server, page, screenshot):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/abha/signin/")
    page.locator("input[name=login_id]").fill("asha.typed@sbx")
    _choose_language(page, "gu")
    assert page.locator("input[name=login_id]").input_value() == "asha.typed@sbx"
    screenshot(page, "abha-signin-language-kept-gu-phone")
    page.reload()  # kept for the one switch only
    assert page.locator("input[name=login_id]").input_value() == ""


def test_a_language_switch_on_the_aadhaar_step_keeps_no_aadhaar_in_the_browser(live_server, page):
    # keep-form.js carries typed fields over the language reload in sessionStorage: never an Aadhaar number.
    page.goto(live_server.url + "/abha/enrol/")
    page.locator("input[name=agree]").check()
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/enrol/aadhaar/")
    page.locator("input[name=aadhaar]").fill("2345 6789 0124")
    page.evaluate(
        "document.querySelector('form.language-switcher').addEventListener('submit', () => "
        "{ window.name = JSON.stringify(Object.assign({}, sessionStorage)); })"
    )
    page.locator("button[name=language][value=gu]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "gu"
    assert "234567890124" not in page.evaluate("window.name").replace(" ", "")
    assert page.locator("input[name=aadhaar]").input_value() == ""
