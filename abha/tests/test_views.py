"""The enrollment wizard, sign-in and citizen home through Django's test client."""

import pytest
from django.urls import reverse

from abha.identifiers import aadhaar_hash
from abha.models import AbhaAccount, OtpTransaction
from core.enums import Role
from core.models import AuditEvent
from core.tests.factories import StateOfficialFactory, UserFactory

from .conftest import AADHAAR, last_otp
from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]

DETAILS_FORM = {
    "first_name": "Asha",
    "last_name": "Patel",
    "gender": "F",
    "year_of_birth": "1990",
    "month_of_birth": "5",
    "day_of_birth": "",
    "state_lgd": "24",
    "district_lgd": "443",
    "address": "12 Station Road",
    "pincode": "364001",
}


@pytest.fixture
def wizard(client, sms_outbox, django_capture_on_commit_callbacks):
    class Wizard:
        def post(self, name, data):
            with django_capture_on_commit_callbacks(execute=True):
                return client.post(reverse(name), data)

        def to_details(self, mobile="9876543210"):
            assert self.post("abha:enrol_start", {"agree": "on"}).url == reverse("abha:enrol_mobile")
            assert self.post("abha:enrol_mobile", {"mobile": mobile}).url == reverse("abha:enrol_otp")
            response = self.post("abha:enrol_otp", {"otp": last_otp(sms_outbox, mobile)})
            assert response.url == reverse("abha:enrol_details")

    return Wizard()


def test_wizard_creates_an_abha_and_signs_the_citizen_in(client, wizard):
    assert client.get(reverse("abha:enrol_start")).status_code == 200
    wizard.to_details()
    response = wizard.post("abha:enrol_details", {**DETAILS_FORM, "aadhaar": "2341 2341 2346"})
    assert response.url == reverse("abha:enrol_address")
    page = client.get(reverse("abha:enrol_address"))
    assert page.status_code == 200 and "asha.patel@sbx" in page.content.decode()
    done = wizard.post("abha:enrol_address", {"choice": "asha.patel"})
    assert done.url == reverse("abha:enrol_done")
    account = AbhaAccount.objects.get()
    assert account.aadhaar_last4 == "2346" and account.month_of_birth == 5 and account.day_of_birth is None
    page = client.get(reverse("abha:enrol_done")).content.decode()
    assert account.abha_number_display in page and "asha.patel@sbx" in page
    assert client.get(reverse("abha:enrolled_card_png"))["Content-Type"] == "image/png"
    assert client.get(reverse("abha:enrolled_card_pdf"))["Content-Type"] == "application/pdf"
    home = client.get(reverse("abha:home"))
    assert home.status_code == 200 and "Asha Patel" in home.content.decode()


def test_steps_cannot_be_skipped_and_back_keeps_answers(client, wizard):
    assert client.get(reverse("abha:enrol_mobile")).url == reverse("abha:enrol_start")
    assert client.get(reverse("abha:enrol_details")).url == reverse("abha:enrol_start")
    wizard.post("abha:enrol_start", {"agree": "on"})
    wizard.post("abha:enrol_mobile", {"mobile": "9876543210"})
    assert client.get(reverse("abha:enrol_details")).url == reverse("abha:enrol_otp")
    assert 'value="9876543210"' in client.get(reverse("abha:enrol_mobile")).content.decode()  # back to mobile


def test_back_from_address_shows_saved_details(client, wizard):
    wizard.to_details()
    wizard.post("abha:enrol_details", DETAILS_FORM)
    page = client.get(reverse("abha:enrol_details")).content.decode()
    assert 'value="Asha"' in page and 'value="1990"' in page


def test_consent_must_be_ticked(client, wizard):
    response = wizard.post("abha:enrol_start", {})
    assert response.status_code == 200 and "Tick the box" in response.content.decode()


def test_duplicate_aadhaar_stops_at_the_details_step_with_a_sign_in_path(client, wizard):
    AbhaAccountFactory(aadhaar_hash=aadhaar_hash(AADHAAR))
    wizard.to_details("9876543211")
    response = wizard.post("abha:enrol_details", {**DETAILS_FORM, "aadhaar": AADHAAR})
    page = response.content.decode()
    assert response.status_code == 200
    assert "You already have an ABHA." in page and reverse("abha:signin") in page
    assert AADHAAR not in OtpTransaction.objects.get(mobile="9876543211").draft.values()


def test_invalid_aadhaar_and_future_year_are_shown_on_their_fields(wizard):
    wizard.to_details()
    response = wizard.post("abha:enrol_details", {**DETAILS_FORM, "aadhaar": "234123412345", "year_of_birth": "2999"})
    page = response.content.decode()
    assert "This Aadhaar number is not valid" in page and "cannot be in the future" in page


def test_seventh_abha_on_a_mobile_is_refused_at_the_mobile_step(client, wizard):
    AbhaAccountFactory.create_batch(6, mobile="9876543210")
    wizard.post("abha:enrol_start", {"agree": "on"})
    response = wizard.post("abha:enrol_mobile", {"mobile": "9876543210"})
    page = response.content.decode()
    assert response.status_code == 200 and "already has 6 ABHAs" in page and reverse("abha:signin") in page


def test_wrong_otps_show_attempts_left_then_lock(client, wizard):
    wizard.post("abha:enrol_start", {"agree": "on"})
    wizard.post("abha:enrol_mobile", {"mobile": "9876543210"})
    first = wizard.post("abha:enrol_otp", {"otp": "000000"}).content.decode()
    assert "Attempts left: 4" in first
    for _ in range(4):
        page = wizard.post("abha:enrol_otp", {"otp": "000000"}).content.decode()
    assert "Too many wrong OTPs" in page and "Start again" in page


def test_taken_custom_address_is_refused_on_the_field(client, wizard):
    other = AbhaAccountFactory()
    other.addresses.create(local="asha.custom1")
    wizard.to_details()
    wizard.post("abha:enrol_details", DETAILS_FORM)
    check = client.get(reverse("abha:enrol_address_check"), {"abha_address": "Asha.Custom1"}).json()
    assert check["available"] is False
    response = wizard.post("abha:enrol_address", {"choice": "custom", "custom": "Asha.Custom1"})
    assert response.status_code == 200 and "This ABHA address is taken" in response.content.decode()
    assert AbhaAccount.objects.count() == 1


def test_a_typed_address_wins_over_the_picked_suggestion_without_javascript(client, wizard):
    wizard.to_details()
    wizard.post("abha:enrol_details", DETAILS_FORM)
    done = wizard.post("abha:enrol_address", {"choice": "asha.patel", "custom": " asha.typed1 "})
    assert done.url == reverse("abha:enrol_done")
    assert AbhaAccount.objects.get().primary_address.local == "asha.typed1"


def test_type_your_own_picked_with_nothing_typed_asks_for_the_address(client, wizard):
    wizard.to_details()
    wizard.post("abha:enrol_details", DETAILS_FORM)
    response = wizard.post("abha:enrol_address", {"choice": "custom", "custom": ""})
    assert response.status_code == 200 and "Type the ABHA address you want" in response.content.decode()
    assert not AbhaAccount.objects.exists()


def test_sign_in_with_otp_and_choose_among_a_familys_abhas(client, sms_outbox, django_capture_on_commit_callbacks):
    mother = AbhaAccountFactory(first_name="Asha", mobile="9876543210")
    AbhaAccountFactory(first_name="Ravi", mobile="9876543210")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("abha:signin"), {"login_id": "9876543210"})
    assert response.url == reverse("abha:signin_otp")
    response = client.post(reverse("abha:signin_otp"), {"otp": last_otp(sms_outbox)})
    assert response.url == reverse("abha:signin_choose")
    response = client.post(reverse("abha:signin_choose"), {"abha_number": mother.abha_number})
    assert response.url == reverse("abha:home")
    home = client.get(reverse("abha:home")).content.decode()
    assert mother.abha_number_display in home and "Signed in" not in home  # one's own sign-in is no access


@pytest.mark.parametrize("otp_page", ["abha:enrol_otp", "abha:signin_otp"])
def test_send_again_within_the_first_minute_says_how_many_seconds_to_wait(client, wizard, otp_page):
    if otp_page == "abha:enrol_otp":
        wizard.post("abha:enrol_start", {"agree": "on"})
        wizard.post("abha:enrol_mobile", {"mobile": "9876543210"})
    else:
        AbhaAccountFactory(mobile="9876543210")
        wizard.post("abha:signin", {"login_id": "9876543210"})
    response = wizard.post(otp_page, {"resend": "1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "You can ask for a new OTP in" in page and "seconds" in page
    assert 'name="otp"' in page  # the OTP form is still there to type the one already sent


def test_sign_in_unknown_id_is_not_told_apart(client):
    response = client.post(reverse("abha:signin"), {"login_id": "nobody.here"})
    assert response.status_code == 302 and response.url == reverse("abha:signin_otp")  # as for a known one


def test_home_and_card_pages_only_for_the_citizen(client):
    owner = AbhaAccountFactory(first_name="Asha")
    other = AbhaAccountFactory(first_name="Ravi", mobile="9000000001")
    for name in ("abha:home", "abha:card_png", "abha:card_pdf"):
        assert client.get(reverse(name)).url == reverse("abha:signin")  # anonymous
        client.force_login(UserFactory(role=Role.FACILITY_STAFF))
        assert client.get(reverse(name)).url == reverse("abha:signin")  # staff have no ABHA home
        client.force_login(StateOfficialFactory())
        assert client.get(reverse(name)).url == reverse("abha:signin")
        client.force_login(other.user)
        theirs = client.get(reverse(name))
        client.force_login(owner.user)
        mine = client.get(reverse(name))
        assert mine.status_code == theirs.status_code == 200 and mine.content != theirs.content
        client.logout()


def test_home_lists_who_accessed_the_account(client):
    owner = AbhaAccountFactory()
    staff = UserFactory(role=Role.FACILITY_STAFF, first_name="Kavita", last_name="Solanki")
    from core.services import audit_record

    audit_record(actor=staff, action="abha.lookup", target=owner)
    client.force_login(owner.user)
    page = client.get(reverse("abha:home")).content.decode()
    assert "Kavita Solanki" in page and "facility look-up" in page
    assert AuditEvent.objects.count() == 1


def test_home_page_offers_the_abha_tasks(client):
    page = client.get("/").content.decode()
    assert reverse("abha:enrol_start") in page and reverse("abha:signin") in page


def test_assisted_enrollment_from_a_facility_records_who_and_where(client, wizard, sms_outbox):
    from facilities.models import FacilityMembership
    from facilities.tests.factories import FacilityFactory

    facility = FacilityFactory()
    staff = UserFactory(role=Role.FACILITY_STAFF)
    FacilityMembership.objects.create(user=staff, facility=facility, role="staff")
    url = reverse("abha:enrol_assisted", args=[facility.uuid])
    assert client.get(url).url.startswith(reverse("core:login"))  # anonymous: sign in first
    client.force_login(UserFactory(role=Role.FACILITY_STAFF))  # works elsewhere
    assert client.get(url).status_code == 403
    client.force_login(staff)
    assert client.get(url).url == reverse("abha:enrol_start")
    wizard.post("abha:enrol_start", {"agree": "on"})
    assert facility.name in client.get(reverse("abha:enrol_mobile")).content.decode()
    wizard.post("abha:enrol_mobile", {"mobile": "9876543210"})
    wizard.post("abha:enrol_otp", {"otp": last_otp(sms_outbox, "9876543210")})  # read out by the citizen
    wizard.post("abha:enrol_details", DETAILS_FORM)
    assert wizard.post("abha:enrol_address", {"choice": "default"}).url == reverse("abha:enrol_done")
    account = AbhaAccount.objects.get()
    assert (account.channel, account.assisted_by, account.assisted_facility) == ("assisted", staff, facility)
    assert client.get(reverse("abha:enrol_done")).status_code == 200  # staff can hand over the card
    assert client.get(reverse("abha:enrolled_card_pdf"))["Content-Type"] == "application/pdf"
    assert client.session["_auth_user_id"] == str(staff.pk)  # the staff member stays signed in as themselves


def test_home_links_only_to_citizen_pages_that_exist(client):
    from django.urls import NoReverseMatch

    from abha.views import CITIZEN_LINKS

    owner = AbhaAccountFactory()
    client.force_login(owner.user)
    page = client.get(reverse("abha:home")).content.decode()
    for url_name, title, _text in CITIZEN_LINKS:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            assert str(title) not in page
        else:
            assert f'href="{url}"' in page


def test_facility_page_offers_assisted_enrollment_to_its_people_only(client):
    from facilities.models import FacilityMembership
    from facilities.tests.factories import FacilityFactory

    facility = FacilityFactory()
    staff = UserFactory(role=Role.FACILITY_STAFF)
    FacilityMembership.objects.create(user=staff, facility=facility, role="staff")
    url = reverse("abha:enrol_assisted", args=[facility.uuid])
    client.force_login(staff)
    assert url in client.get(reverse("facilities:detail", args=[facility.uuid])).content.decode()
    client.force_login(StateOfficialFactory())  # sees the facility, does not work there
    assert url not in client.get(reverse("facilities:detail", args=[facility.uuid])).content.decode()


def test_citizen_home_links_to_records_consents_and_access_log(client):
    from abha.tests.factories import AbhaAccountFactory

    account = AbhaAccountFactory()
    client.force_login(account.user)
    html = client.get(reverse("abha:home")).content.decode()
    for url in ("/records/me/", "/records/me/link/", "/records/me/consents/", "/records/me/access-log/"):
        assert f'href="{url}"' in html


@pytest.mark.parametrize(
    "next_url, expected",
    [
        ("/scan/?hip-id=IN2410000001&counter-id=OPD1", "/scan/?hip-id=IN2410000001&amp;counter-id=OPD1"),
        ("https://evil.example/phish", None),
        ("//evil.example/", None),
    ],
)
def test_enrollment_sends_the_citizen_back_where_they_started(client, wizard, next_url, expected):
    client.get(reverse("abha:enrol_start"), {"next": next_url})
    wizard.to_details()
    wizard.post("abha:enrol_details", DETAILS_FORM)
    wizard.post("abha:enrol_address", {"choice": "asha.patel"})
    page = client.get(reverse("abha:enrol_done")).content.decode()
    if expected:
        assert f'href="{expected}"' in page
    else:
        assert "evil.example" not in page


def test_the_details_form_names_the_state_and_districts_in_gujarati(client, wizard):
    wizard.to_details()
    client.cookies["django_language"] = "gu"
    page = client.get(reverse("abha:enrol_details")).content.decode()
    assert "ગુજરાત" in page and "ભાવનગર" in page
    assert ">Gujarat<" not in page and ">Bhavnagar<" not in page
