"""Team invitations (issue 15 #6): the answer is the same for every mobile, and nobody gets a staff role until the
invitee accepts through the SMS link; a citizen's account is never turned into staff."""

import datetime as dt

import pytest
from django.utils import timezone

from core.enums import Role
from core.models import AuditEvent, User
from facilities.enums import InvitationStatus, MembershipRole
from facilities.models import FacilityMembership, Invitation

pytestmark = pytest.mark.django_db

ANSWER = "/api/v1/facilities/invitations/answer/"


def team_url(facility):
    return f"/api/v1/facilities/{facility.uuid}/team/"


@pytest.fixture
def invite(people, api_as, sms_outbox, django_capture_on_commit_callbacks):
    """Invites `mobile` to the home facility as the admin; returns (response, token from the SMS link or None)."""

    def send(mobile, role="staff", **extra):
        sms_outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = api_as(people["admin"]).post(
                team_url(people["home"]), {"role": role, "mobile": mobile, **extra}, format="json"
            )
        links = [word for m in sms_outbox for word in m["text"].split() if "/facilities/invitations/" in word]
        return response, (links[-1].rstrip("/").rsplit("/", 1)[1] if links else None)

    return send


@pytest.fixture
def citizen(people):
    citizen = people["citizen"]
    citizen.mobile = "9898011111"
    citizen.save()
    return citizen


def _shape(response) -> tuple:
    body = response.json()
    return response.status_code, tuple(sorted(body)), body["status"], body["role"], len(body["mobile"])


def test_the_answer_is_the_same_for_a_citizen_an_official_a_staff_member_and_an_unknown_mobile(
    people, invite, citizen, sms_outbox
):
    people["officer"].mobile = "9898022222"
    people["officer"].save()
    people["other_staff"].mobile = "9898033333"
    people["other_staff"].save()
    users = User.objects.count()
    answers = {}
    for mobile in ("9898011111", "9898022222", "9898033333", "9898044444"):
        response, token = invite(mobile)
        assert response.status_code == 201, response.json()
        answers[mobile] = _shape(response)
        assert token and len(sms_outbox) == 1 and sms_outbox[0]["to"] == mobile  # every mobile gets the same SMS
        assert people["home"].name in sms_outbox[0]["text"]
    assert len(set(answers.values())) == 1 and answers["9898044444"][0] == 201
    assert User.objects.count() == users  # no account made
    assert not FacilityMembership.objects.filter(facility=people["home"]).exclude(
        user__in=[people["admin"], people["staff"]]
    )  # and nobody joined
    citizen.refresh_from_db()
    assert citizen.role == Role.CITIZEN
    assert AuditEvent.objects.filter(action="facility.team_invite").count() == 4


def test_the_team_page_says_the_same_for_a_citizens_mobile_and_an_unknown_one(client, people, citizen):
    client.force_login(people["admin"])
    pages = []
    for mobile in ("9898011111", "9898044444"):
        response = client.post(f"/facilities/{people['home'].uuid}/team/", {"mobile": mobile, "role": "staff"})
        assert response.status_code == 302
        pages.append(client.get(response.url).content.decode().replace(mobile[-2:] + "<", "NN<"))
    assert "An invitation was sent to" in pages[0] and "An invitation was sent to" in pages[1]
    assert "account" not in pages[0].split("An invitation was sent to", 1)[1][:120]


def test_an_unknown_mobile_accepts_gets_a_staff_account_and_sets_its_password(people, invite, client):
    _response, token = invite("9898044444", name="Rina Shah")
    assert not User.objects.filter(mobile="9898044444").exists()
    page = client.get(f"/facilities/invitations/{token}/")
    assert page.status_code == 200 and people["home"].name in page.content.decode()
    accepted = client.post(f"/facilities/invitations/{token}/", {"decision": "accept"})
    person = User.objects.get(mobile="9898044444")
    assert person.role == Role.FACILITY_STAFF and not person.has_usable_password()
    assert person.get_full_name() == "Rina Shah"
    assert FacilityMembership.objects.get(user=person).facility == people["home"]
    assert accepted.status_code == 302 and "/accounts/set-password/" in accepted.url
    form_page = client.get(accepted.url.split("127.0.0.1:8000", 1)[-1], follow=True)
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "kesar-mango-2026", "new_password2": "kesar-mango-2026"})
    assert done.status_code == 302
    assert client.login(username=person.username, password="kesar-mango-2026")
    assert Invitation.objects.get().status == InvitationStatus.ACCEPTED
    assert AuditEvent.objects.filter(action="facility.team_add", actor=person).exists()
    again = client.post(f"/facilities/invitations/{token}/", {"decision": "accept"})
    assert again.status_code == 404  # a link is used once


def test_a_citizens_account_is_never_turned_into_staff(people, invite, citizen, api_client):
    _response, token = invite("9898011111")
    api_client.force_authenticate(citizen)  # even signed in as the citizen
    accepted = api_client.post(ANSWER, {"token": token, "decision": "accept"}, format="json")
    assert accepted.status_code == 200 and accepted.json()["password_set_url"]
    citizen.refresh_from_db()
    assert citizen.role == Role.CITIZEN and not FacilityMembership.objects.filter(user=citizen).exists()
    staff_account = User.objects.get(mobile="9898011111", role=Role.FACILITY_STAFF)
    assert staff_account.pk != citizen.pk and staff_account.username != citizen.username
    assert FacilityMembership.objects.get(user=staff_account).facility == people["home"]


def test_an_existing_staff_account_accepts_only_when_signed_in_as_itself(people, invite, api_client):
    people["other_staff"].mobile = "9898033333"
    people["other_staff"].save()
    _response, token = invite("9898033333", role="admin")
    anonymous = api_client.post(ANSWER, {"token": token, "decision": "accept"}, format="json")
    assert anonymous.status_code == 403
    api_client.force_authenticate(people["staff"])  # someone else who got hold of the link
    assert api_client.post(ANSWER, {"token": token, "decision": "accept"}, format="json").status_code == 403
    assert not FacilityMembership.objects.filter(user=people["other_staff"], facility=people["home"]).exists()
    api_client.force_authenticate(people["other_staff"])
    accepted = api_client.post(ANSWER, {"token": token, "decision": "accept"}, format="json")
    assert accepted.status_code == 200 and accepted.json()["password_set_url"] is None
    membership = FacilityMembership.objects.get(user=people["other_staff"], facility=people["home"])
    assert membership.role == MembershipRole.ADMIN


def test_the_accept_page_asks_an_existing_staff_account_to_sign_in(people, invite, client):
    people["other_staff"].mobile = "9898033333"
    people["other_staff"].save()
    _response, token = invite("9898033333")
    page = client.post(f"/facilities/invitations/{token}/", {"decision": "accept"})
    assert page.status_code == 200 and "/accounts/login/?next=" in page.content.decode()
    assert not FacilityMembership.objects.filter(user=people["other_staff"], facility=people["home"]).exists()
    client.force_login(people["other_staff"])
    joined = client.post(f"/facilities/invitations/{token}/", {"decision": "accept"})
    assert joined.status_code == 302
    assert FacilityMembership.objects.filter(user=people["other_staff"], facility=people["home"]).exists()


def test_declined_expired_replaced_and_unknown_links_give_no_role(people, invite, client, api_client):
    _response, declined = invite("9898044444")
    assert api_client.post(ANSWER, {"token": declined, "decision": "decline"}, format="json").status_code == 200
    assert Invitation.objects.get().status == InvitationStatus.DECLINED
    _response, old = invite("9898055555")
    _response, new = invite("9898055555")  # a new invitation replaces the pending one
    assert Invitation.objects.get(mobile="9898055555", status=InvitationStatus.PENDING)
    _response, expired = invite("9898066666")
    Invitation.objects.filter(mobile="9898066666").update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    for token in (declined, old, expired, "not-a-token"):
        refused = api_client.post(ANSWER, {"token": token, "decision": "accept"}, format="json")
        assert refused.status_code == 404, token
        assert client.get(f"/facilities/invitations/{token}/").status_code == 404
    assert not User.objects.filter(mobile__in=["9898044444", "9898055555", "9898066666"]).exists()
    assert api_client.post(ANSWER, {"token": new, "decision": "accept"}, format="json").status_code == 200


def test_only_the_facilitys_admin_invites(people, api_as):
    for who, status in (("staff", 403), ("officer", 403), ("other_staff", 404), ("citizen", 404)):
        response = api_as(people[who]).post(
            team_url(people["home"]), {"role": "staff", "mobile": "9898077777"}, format="json"
        )
        assert response.status_code == status, who
    assert not Invitation.objects.exists()


def test_the_token_is_kept_only_as_a_hash(people, invite):
    _response, token = invite("9898044444")
    assert token not in str(list(Invitation.objects.values()))
