"""The enrollment wizard (through ABDM, the local sandbox over HTTP), sign-in and citizen home through Django's test
client."""

import pytest
from django.urls import reverse

from abha.models import AbhaAccount, OtpTransaction
from core.enums import Role
from core.models import AuditEvent
from core.tests.factories import StateOfficialFactory, UserFactory

from .conftest import new_mobile
from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]


@pytest.fixture
def wizard(client, abdm_sandbox, resident):
    class Wizard:
        person = None

        def post(self, name, data):
            return client.post(reverse(name), data)

        def to_otp(self, person=None):
            self.person = person or resident()
            assert self.post("abha:enrol_start", {"agree": "on"}).url == reverse("abha:enrol_aadhaar")
            response = self.post("abha:enrol_aadhaar", {"aadhaar": self.person.aadhaar})
            assert response.status_code == 302, response.content.decode()[:2000]
            assert response.url == reverse("abha:enrol_otp")
            return self.person

        def to_address(self, person=None):
            person = self.to_otp(person)
            response = self.post(
                "abha:enrol_otp", {"otp": abdm_sandbox.last_otp(person.mobile), "mobile": person.mobile}
            )
            assert response.url == reverse("abha:enrol_address"), response.content.decode()[:2000]
            return person

    return Wizard()


def test_wizard_creates_an_abha_at_abdm_and_signs_the_citizen_in(client, wizard):
    assert client.get(reverse("abha:enrol_start")).status_code == 200
    wizard.to_address()
    page = client.get(reverse("abha:enrol_address"))
    assert page.status_code == 200 and "@sbx" in page.content.decode()
    done = wizard.post("abha:enrol_address", {"choice": "custom", "custom": f"asha.w{new_mobile()[-7:]}"})
    assert done.url == reverse("abha:enrol_done")
    account = AbhaAccount.objects.get()
    assert account.first_name == "Asha" and account.month_of_birth == 5 and account.day_of_birth == 23
    page = client.get(reverse("abha:enrol_done")).content.decode()
    assert account.abha_number_display in page and account.primary_address.full in page
    png = client.get(reverse("abha:enrolled_card_png"))
    assert png.status_code == 200 and png["Content-Type"] == "image/png"  # ABDM's card
    assert client.get(reverse("abha:enrolled_card_pdf"))["Content-Type"] == "application/pdf"
    home = client.get(reverse("abha:home"))
    assert home.status_code == 200 and "Asha Patel" in home.content.decode()
    assert client.get(reverse("abha:card_png")).content.startswith(b"\x89PNG")


def test_steps_cannot_be_skipped(client, wizard):
    assert client.get(reverse("abha:enrol_aadhaar")).url == reverse("abha:enrol_start")
    assert client.get(reverse("abha:enrol_otp")).url == reverse("abha:enrol_start")
    assert client.get(reverse("abha:enrol_address")).url == reverse("abha:enrol_start")
    wizard.to_otp()
    assert client.get(reverse("abha:enrol_address")).url == reverse("abha:enrol_otp")
    assert client.get(reverse("abha:enrol_mobile")).url == reverse("abha:enrol_otp")


def test_consent_must_be_ticked(client, wizard):
    response = wizard.post("abha:enrol_start", {})
    assert response.status_code == 200 and "Tick the box" in response.content.decode()


def test_an_aadhaar_with_an_abha_says_so_and_signs_the_citizen_in_to_it(client, wizard, otp_api, resident):
    person = resident()
    first = otp_api.enrol(person)
    wizard.to_otp(person)
    response = wizard.post("abha:enrol_otp", {"otp": otp_api.sandbox.last_otp(person.mobile), "mobile": person.mobile})
    assert response.url == reverse("abha:enrol_done")
    page = client.get(reverse("abha:enrol_done")).content.decode()
    assert "You already have an ABHA" in page and first["abha_number"] in page
    assert AbhaAccount.objects.count() == 1
    assert client.get(reverse("abha:home")).status_code == 200  # signed in to the existing ABHA


def test_invalid_aadhaar_is_shown_on_its_field_and_kept(wizard):
    wizard.post("abha:enrol_start", {"agree": "on"})
    response = wizard.post("abha:enrol_aadhaar", {"aadhaar": "2341 2341 2345"})
    page = response.content.decode()
    assert response.status_code == 200 and "This Aadhaar number is not valid" in page
    assert 'value="2341 2341 2345"' in page
    assert not OtpTransaction.objects.exists()


def test_a_wrong_aadhaar_otp_is_said_plainly_and_the_mobile_is_kept(wizard):
    person = wizard.to_otp()
    response = wizard.post("abha:enrol_otp", {"otp": "000000", "mobile": person.mobile})
    page = response.content.decode()
    assert response.status_code == 200 and "The OTP is not correct" in page
    assert f'value="{person.mobile}"' in page
    assert not AbhaAccount.objects.exists()


def test_another_mobile_is_verified_by_its_own_otp(client, wizard, abdm_sandbox):
    person, other = wizard.to_otp(), new_mobile()
    response = wizard.post("abha:enrol_otp", {"otp": abdm_sandbox.last_otp(person.mobile), "mobile": other})
    assert response.url == reverse("abha:enrol_mobile")
    page = client.get(reverse("abha:enrol_mobile")).content.decode()
    assert other[-2:] in page and "not the one linked with your Aadhaar" in page
    wrong = wizard.post("abha:enrol_mobile", {"otp": "000000"})
    assert "The OTP is not correct" in wrong.content.decode()
    too_soon = wizard.post("abha:enrol_mobile", {"resend": "1"}).content.decode()
    assert "You can ask for a new OTP in" in too_soon and 'name="otp"' in too_soon
    right = wizard.post("abha:enrol_mobile", {"otp": abdm_sandbox.last_otp(other)})
    assert right.url == reverse("abha:enrol_address")
    assert AbhaAccount.objects.get().mobile == other


def test_a_taken_address_is_refused_on_the_field(client, wizard, otp_api):
    taken = f"asha.t{new_mobile()[-7:]}"
    otp_api.enrol(abha_address=taken)
    wizard.to_address()
    check = client.get(reverse("abha:enrol_address_check"), {"abha_address": taken.upper()}).json()
    assert check["available"] is False
    response = wizard.post("abha:enrol_address", {"choice": "custom", "custom": taken})
    assert response.status_code == 200 and "This ABHA address is taken" in response.content.decode()
    assert f'value="{taken}"' in response.content.decode()  # kept


def test_a_typed_address_wins_over_the_picked_suggestion_without_javascript(client, wizard):
    wizard.to_address()
    typed = f"asha.y{new_mobile()[-7:]}"
    done = wizard.post("abha:enrol_address", {"choice": "whatever.suggested", "custom": f" {typed} "})
    assert done.url == reverse("abha:enrol_done")
    assert AbhaAccount.objects.get().primary_address.local == typed


def test_type_your_own_picked_with_nothing_typed_asks_for_the_address(client, wizard):
    wizard.to_address()
    response = wizard.post("abha:enrol_address", {"choice": "custom", "custom": ""})
    assert response.status_code == 200 and "Type the ABHA address you want" in response.content.decode()


def test_abdm_not_answering_keeps_the_aadhaar_typed_and_says_so(client, wizard, private_abdm_sandbox, settings):
    sandbox = private_abdm_sandbox()
    settings.ABDM_GATEWAY_URL, settings.ABDM_ABHA_URL = sandbox.url, sandbox.url + "/abha/api"
    sandbox.stop()
    wizard.post("abha:enrol_start", {"agree": "on"})
    response = wizard.post("abha:enrol_aadhaar", {"aadhaar": "2341 2341 2346"})
    page = response.content.decode()
    assert response.status_code == 200 and "ABDM is not answering. Please try again in a minute." in page
    assert 'value="2341 2341 2346"' in page


def test_sign_in_with_otp_and_choose_among_a_familys_abhas(client, otp_api, resident):
    family = new_mobile()
    mother = otp_api.enrol(resident(mobile=family))
    otp_api.enrol(resident(mobile=family, name="Ravi Patel", gender="M"))
    response = client.post(reverse("abha:signin"), {"login_id": family})
    assert response.url == reverse("abha:signin_otp")
    response = client.post(reverse("abha:signin_otp"), {"otp": otp_api.sandbox.last_otp(family)})
    assert response.url == reverse("abha:signin_choose")
    number = mother["abha_number"].replace("-", "")
    response = client.post(reverse("abha:signin_choose"), {"abha_number": number})
    assert response.url == reverse("abha:home")
    home = client.get(reverse("abha:home")).content.decode()
    assert mother["abha_number"] in home and "Signed in" not in home  # one's own sign-in is no access


def test_send_again_within_the_first_minute_says_how_many_seconds_to_wait(client, otp_api):
    body = otp_api.enrol()
    client.post(reverse("abha:signin"), {"login_id": body["abha_number"]})
    response = client.post(reverse("abha:signin_otp"), {"resend": "1"})
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
        client.logout()
    client.force_login(other.user)
    theirs = client.get(reverse("abha:home"))
    client.force_login(owner.user)
    mine = client.get(reverse("abha:home"))
    assert mine.status_code == theirs.status_code == 200 and mine.content != theirs.content
    # No ABDM session kept for this account: the card sends the citizen to sign in again.
    assert client.get(reverse("abha:card_png")).url == reverse("abha:signin")


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


def test_assisted_enrollment_from_a_facility_records_who_and_where(client, wizard, abdm_sandbox):
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
    assert facility.name in client.get(reverse("abha:enrol_aadhaar")).content.decode()
    wizard.to_address()  # the citizen reads out the OTP
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
    wizard.to_address()
    wizard.post("abha:enrol_address", {"choice": "default"})
    page = client.get(reverse("abha:enrol_done")).content.decode()
    if expected:
        assert f'href="{expected}"' in page
    else:
        assert "evil.example" not in page
