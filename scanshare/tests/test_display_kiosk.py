"""The waiting-hall TV as a kiosk page (issue 19 #10) and the counter queue on a phone (issue 19 #11).

The kiosk is reached by a display key that the facility's admin makes on the facility page: no staff session on a
public screen, the whole 1920x1080 screen, token numbers and the counter only, in Gujarati and English; it updates
itself (htmx) and, without JavaScript, reloads itself (meta refresh).
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from abha.tests.factories import AbhaAccountFactory
from core.enums import Role
from core.models import AuditEvent
from facilities.enums import MembershipRole
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory
from records.tests.browser import fits_phone, signed_in
from scanshare import services
from scanshare.enums import TokenStatus
from scanshare.models import DisplayKey, ScanToken

TV = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def _token(counter, number, status=TokenStatus.WAITING, *, name="Asha Patel"):
    now = timezone.now()
    return ScanToken.objects.create(
        facility=counter.facility,
        counter=counter,
        day=timezone.localdate(),
        number=number,
        patient=AbhaAccountFactory(first_name=name.split()[0], last_name=name.split()[-1]),
        profile={"name": name, "abha_number": "91-1234-5678-9012", "gender": "F", "age": 34, "mobile": "98xxxxxx01"},
        status=status,
        issued_at=now,
        valid_until=now + datetime.timedelta(hours=2),
        called_at=now if status == TokenStatus.CALLED else None,
    )


@pytest.fixture
def contexts():
    """Browser contexts, closed at the end so the live server's threads release the database."""
    opened = []
    yield opened
    for context in opened:
        context.close()


@pytest.fixture
def hall():
    facility = FacilityFactory(name="Sir T Hospital")
    counter = CounterFactory(facility=facility, code="OPD1", name="General OPD")
    admin = MembershipFactory(facility=facility, role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN).user
    staff = MembershipFactory(facility=facility, role=MembershipRole.STAFF, user__role=Role.FACILITY_STAFF).user
    return {"facility": facility, "counter": counter, "admin": admin, "staff": staff}


# --- Server side ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_display_key_rotation_retires_the_old_address_and_is_audited(client, hall):
    first = services.display_key_rotate(counter=hall["counter"], actor=hall["admin"])
    assert client.get(f"/display/{first}/").status_code == 200
    second = services.display_key_rotate(counter=hall["counter"], actor=hall["admin"])
    assert client.get(f"/display/{first}/").status_code == 404
    assert client.get(f"/display/{second}/").status_code == 200
    assert DisplayKey.objects.get().key_hash not in (first, second)  # only the hash is kept
    assert AuditEvent.objects.filter(action="scan_share.display_key_rotate").count() == 2


@pytest.mark.django_db
def test_only_the_facility_admin_makes_a_display_address(client, hall):
    url = f"/facilities/{hall['facility'].uuid}/counters/OPD1/display-key/"
    client.force_login(hall["staff"])
    client.post(url)
    assert not DisplayKey.objects.exists()
    outsider = MembershipFactory(role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN).user
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    client.force_login(hall["admin"])
    response = client.post(url, follow=True)
    address = re.search(r"http://testserver/display/[\w-]+/", response.content.decode()).group(0)
    client.logout()
    assert client.get(address).status_code == 200


@pytest.mark.django_db
def test_kiosk_shows_token_numbers_only_and_refreshes_without_javascript(client, hall):
    key = services.display_key_rotate(counter=hall["counter"], actor=hall["admin"])
    _token(hall["counter"], 1, TokenStatus.CALLED, name="Asha Patel")
    _token(hall["counter"], 2, name="Ravi Mehta")
    page = client.get(f"/display/{key}/").content.decode()
    assert "Asha" not in page and "Ravi" not in page and "98xxxxxx01" not in page
    assert '<noscript><meta http-equiv="refresh"' in page
    assert "Sign out" not in page and "set_language" not in page and "/i18n/" not in page
    assert "હાલ સેવામાં" in page and "Now serving" in page  # Gujarati and English
    # A switched-off counter's screen goes blank.
    hall["counter"].active = False
    hall["counter"].save()
    assert client.get(f"/display/{key}/").status_code == 404
    assert client.get("/display/not-a-key/").status_code == 404


# --- In the browser ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_kiosk_fills_the_tv_and_follows_the_queue(live_server, browser, contexts, screenshot, hall):
    _token(hall["counter"], 7, TokenStatus.CALLED)
    for number in (8, 9, 10, 11, 12):
        _token(hall["counter"], number)

    # The admin makes the address on the facility page.
    admin = signed_in(contexts, browser, live_server, hall["admin"], DESKTOP)
    admin.goto(f"{live_server.url}/facilities/{hall['facility'].uuid}/")
    admin.get_by_role("button", name="New TV display address for OPD1").click()
    address = re.search(r"http://[^\s]+/display/[\w-]+/", admin.locator(".messages").inner_text()).group(0)

    # The TV has no session: a fresh context.
    tv_context = browser.new_context(viewport=TV)
    contexts.append(tv_context)
    tv = tv_context.new_page()
    tv.goto(address)
    assert tv.locator(".scan-board-number").inner_text() == "7"
    assert tv.locator(".scan-board-waiting li").all_inner_texts() == ["8", "9", "10", "11"]
    assert tv.locator("html").get_attribute("lang") == "gu"
    for absent in ("Sign out", "English", "Asha"):
        assert absent not in tv.locator("body").inner_text()
    board = tv.locator(".scan-board").bounding_box()
    body = tv.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert body == [1920, 1080]  # the whole screen, no scrolling
    assert board["width"] > 1600 and board["y"] + board["height"] > 1000
    number_box = tv.locator(".scan-board-number").bounding_box()
    assert number_box["height"] > 300  # read from across the hall
    screenshot(tv, "kiosk-tv-1920")

    # Staff call the next token; the TV follows by itself (htmx), without a reload.
    tv.evaluate("window.notReloaded = true")
    ScanToken.objects.filter(number=7).update(status=TokenStatus.DONE)
    ScanToken.objects.filter(number=8).update(status=TokenStatus.CALLED, called_at=timezone.now())
    expect(tv.locator(".scan-board-number")).to_have_text("8", timeout=10_000)
    assert tv.evaluate("window.notReloaded") is True

    # The staff's old TV button still works, and shows the same kiosk page.
    staff = signed_in(contexts, browser, live_server, hall["staff"], TV)
    staff.goto(f"{live_server.url}/facilities/{hall['facility'].uuid}/scan-display/OPD1/")
    assert staff.locator(".scan-board-number").inner_text() == "8"
    assert "Sign out" not in staff.locator("body").inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_kiosk_without_javascript_reloads_itself(live_server, browser, contexts, hall):
    key = services.display_key_rotate(counter=hall["counter"], actor=hall["admin"])
    _token(hall["counter"], 3, TokenStatus.CALLED)
    context = browser.new_context(viewport=TV, java_script_enabled=False)
    contexts.append(context)
    tv = context.new_page()
    tv.goto(f"{live_server.url}/display/{key}/")
    assert tv.locator(".scan-board-number").inner_text() == "3"
    _token(hall["counter"], 4, TokenStatus.CALLED)
    tv.wait_for_event("framenavigated", timeout=20_000)  # the noscript meta refresh reloads the page by itself
    tv.wait_for_load_state()
    assert tv.locator(".scan-board-number").inner_text() == "4"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "hi", "gu"])
def test_queue_actions_fit_a_phone(live_server, browser, contexts, screenshot, hall, language):
    _token(hall["counter"], 1, TokenStatus.CALLED, name="Asha Patel")
    _token(hall["counter"], 2, name="Ravi Mehta")
    for viewport, name in [(PHONE, "phone"), (DESKTOP, "desktop")]:
        page = signed_in(contexts, browser, live_server, hall["staff"], viewport, language)
        page.goto(f"{live_server.url}/facilities/{hall['facility'].uuid}/scan-queue/?counter=OPD1")
        buttons = page.locator("#scan-queue .scan-actions .button")
        assert buttons.count() == 7  # Done + No-show for 1; Call, Done, No-show for 2; Add record for both
        for index in range(buttons.count()):
            box = buttons.nth(index).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (index, box)
        assert fits_phone(page)
        screenshot(page, f"queue-{language}-{name}")
