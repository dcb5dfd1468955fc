"""The enrollment wizard and citizen sign-in in a real browser (Debian's Chromium), in 3 languages."""

import pytest

from abha.identifiers import aadhaar_hash
from abha.models import AbhaAccount

from .conftest import AADHAAR, last_otp
from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("geography")]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LANGUAGE_BUTTON = {"hi": "हिन्दी", "gu": "ગુજરાતી"}


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
    live_server, page, screenshot, sms_outbox, language, viewport_name, viewport, heading
):
    page.set_viewport_size(viewport)
    page.goto(live_server.url + "/")
    _choose_language(page, language)
    page.locator("a.task-card[href='/abha/enrol/']").click()
    tag = f"{language}-{viewport_name}"
    screenshot(page, f"abha-enrol-1-consent-{tag}")
    page.locator("input[name=agree]").check()
    page.locator("form button.primary").click()

    page.locator("input[name=mobile]").fill("9876543210")
    screenshot(page, f"abha-enrol-2-mobile-{tag}")
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/enrol/otp/")
    page.locator("input[name=otp]").fill("000000")
    page.locator("form button.primary").click()
    assert page.locator(".field-error").count() == 1  # wrong OTP: attempts left, on the field
    page.locator("input[name=otp]").fill(last_otp(sms_outbox, "9876543210"))
    screenshot(page, f"abha-enrol-3-otp-{tag}")
    page.locator("form button.primary").click()

    page.wait_for_url("**/abha/enrol/details/")
    page.locator("input[name=first_name]").fill("આશા" if language == "gu" else "Asha")
    page.locator("input[name=last_name]").fill("Patel")
    page.locator("input[name=gender][value=F]").check()
    page.locator("input[name=year_of_birth]").fill("1990")
    page.locator("select[name=month_of_birth]").select_option("5")
    page.locator("select[name=district_lgd]").select_option("443")
    page.locator("textarea[name=address]").fill("12 Station Road")
    page.locator("input[name=pincode]").fill("364001")
    page.locator("input[name=aadhaar]").fill("2341 2341 2346")
    screenshot(page, f"abha-enrol-4-details-{tag}")
    page.locator("form button.primary").click()

    page.wait_for_url("**/abha/enrol/address/")
    assert page.locator("input[name=choice]").count() >= 5  # 3+ suggestions, the default, your own
    page.locator("input[name=custom]").fill("asha.browser")
    page.wait_for_selector("#address-status.abha-ok")
    screenshot(page, f"abha-enrol-5-address-{tag}")
    page.locator("form#address-form button.primary").click()

    page.wait_for_url("**/abha/enrol/done/")
    assert page.locator("h1").inner_text() == heading
    account = AbhaAccount.objects.get()
    assert page.get_by_test_id("abha-number").inner_text() == account.abha_number_display
    assert "asha.browser@sbx" in page.locator("main").inner_text()
    assert page.evaluate("document.querySelector('img.abha-card').naturalWidth") == 1012
    assert _fits(page)
    screenshot(page, f"abha-enrol-6-done-{tag}")

    page.goto(live_server.url + "/abha/me/")
    assert account.abha_number_display in page.locator("main").inner_text()
    assert _fits(page)
    screenshot(page, f"abha-home-{tag}")


def test_duplicate_aadhaar_is_caught_at_the_details_step_then_sign_in(live_server, page, screenshot, sms_outbox):
    existing = AbhaAccountFactory(first_name="Asha", mobile="9876543299", aadhaar_hash=aadhaar_hash(AADHAAR))
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/abha/enrol/")
    _choose_language(page, "gu")
    page.locator("input[name=agree]").check()
    page.locator("form button.primary").click()
    page.locator("input[name=mobile]").fill("9876543210")
    page.locator("form button.primary").click()
    page.locator("input[name=otp]").fill(last_otp(sms_outbox, "9876543210"))
    page.locator("form button.primary").click()
    page.locator("input[name=first_name]").fill("Asha")
    page.locator("input[name=gender][value=F]").check()
    page.locator("input[name=year_of_birth]").fill("1990")
    page.locator("select[name=district_lgd]").select_option("443")
    page.locator("input[name=aadhaar]").fill(AADHAAR)
    page.locator("form button.primary").click()
    alert = page.locator(".abha-duplicate")
    assert "આ આધાર નંબરનું પહેલેથી એક ABHA છે" in alert.inner_text()
    screenshot(page, "abha-enrol-duplicate-aadhaar-gu-phone")
    alert.locator("a").click()

    page.wait_for_url("**/abha/signin/")
    page.locator("input[name=login_id]").fill(existing.abha_number_display)
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/signin/otp/")
    page.locator("input[name=otp]").fill(last_otp(sms_outbox, "9876543299"))
    screenshot(page, "abha-signin-otp-gu-phone")
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/me/")
    assert existing.abha_number_display in page.locator("main").inner_text()
    screenshot(page, "abha-signed-in-home-gu-phone")


def test_citizen_manages_the_account_in_the_browser(live_server, page, screenshot, sms_outbox):
    account = AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9876543210")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/abha/signin/")
    _choose_language(page, "hi")
    page.locator("input[name=login_id]").fill("9876543210")
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/signin/otp/")
    page.locator("input[name=otp]").fill(last_otp(sms_outbox))
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/me/")
    assert _fits(page)
    screenshot(page, "abha-home-hi-phone")

    page.locator("a[href='/abha/me/addresses/add/']").click()
    page.wait_for_url("**/abha/me/addresses/add/")
    page.locator("input[name=abha_address]").fill("asha.hindi")
    page.wait_for_selector("#address-status.abha-ok")
    page.locator("input[name=make_primary]").check()
    screenshot(page, "abha-address-add-hi-phone")
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/me/")
    assert "asha.hindi@sbx" in page.locator("main").inner_text()

    page.locator("a[href='/abha/me/deactivate/']").click()
    screenshot(page, "abha-deactivate-hi-phone")
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/me/confirm/")
    page.locator("input[name=otp]").fill(last_otp(sms_outbox))
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/me/")
    account.refresh_from_db()
    assert account.status == "deactivated"
    assert page.locator("a[href='/abha/me/reactivate/']").count() == 2  # the banner and the menu
    screenshot(page, "abha-home-deactivated-hi-phone")


def test_a_taken_address_shows_one_error_line_and_typing_picks_type_your_own(live_server, page, sms_outbox):
    AbhaAccountFactory(mobile="9876543299").addresses.create(local="asha.taken1")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/abha/enrol/")
    page.locator("input[name=agree]").check()
    page.locator("form button.primary").click()
    page.locator("input[name=mobile]").fill("9876543210")
    page.locator("form button.primary").click()
    page.locator("input[name=otp]").fill(last_otp(sms_outbox, "9876543210"))
    page.locator("form button.primary").click()
    page.locator("input[name=first_name]").fill("Asha")
    page.locator("input[name=gender][value=F]").check()
    page.locator("input[name=year_of_birth]").fill("1990")
    page.locator("select[name=district_lgd]").select_option("443")
    page.locator("form button.primary").click()
    page.wait_for_url("**/abha/enrol/address/")
    page.locator("input[name=custom]").fill("asha.taken1")
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
