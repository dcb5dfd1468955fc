"""The citizen's own changes: contact, addresses, mobile, deactivate/reactivate, delete (with OTP)."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from abha import services
from abha.enums import OtpPurpose
from abha.models import AbhaAccount, AbhaAddress, OtpTransaction
from core.exceptions import DomainError, NotAllowed
from core.models import AuditEvent

from .conftest import last_otp, new_mobile
from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]


@pytest.fixture
def account():
    return AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9876543210", email="asha@example.org")


@pytest.fixture
def confirm(sms_outbox, django_capture_on_commit_callbacks):
    """confirm(account, purpose, new_mobile="") runs the OTP round trip through the services."""

    def run(account, purpose, new_mobile="", otp=None):
        with django_capture_on_commit_callbacks(execute=True):
            txn = services.account_otp_start(
                account=account, actor=account.user, purpose=purpose, new_mobile=new_mobile
            )
        return services.account_confirm(
            account=account, actor=account.user, txn_id=txn.uuid, otp=otp or last_otp(sms_outbox), purpose=purpose
        )

    return run


def test_contact_details_change_is_validated_and_audited(account):
    with pytest.raises(DomainError) as error:
        services.account_update_contact(account=account, actor=account.user, address="x", pincode="0123", email="no")
    assert set(error.value.fields) == {"pincode", "email"}
    services.account_update_contact(account=account, actor=account.user, address="New Road", pincode="364002", email="")
    account.refresh_from_db()
    assert (account.address, account.pincode, account.email) == ("New Road", "364002", "")
    assert AuditEvent.objects.get(action="abha.update").details == {"fields": ["address", "pincode", "email"]}


def test_only_the_citizen_changes_their_account(account):
    other = AbhaAccountFactory(mobile="9000000000")
    with pytest.raises(NotAllowed):
        services.account_update_contact(account=account, actor=other.user, address="", pincode="", email="")
    with pytest.raises(NotAllowed):
        services.address_add(account=account, actor=other.user, local="someone.else")


def test_adding_addresses_keeps_the_rules(account):
    services.address_add(account=account, actor=account.user, local="Asha.Second", make_primary=True)
    assert account.addresses.get(is_primary=True).full == "asha.second@sbx"
    assert account.addresses.count() == 2
    other = AbhaAccountFactory(mobile="9000000000")
    with pytest.raises(DomainError) as error:
        services.address_add(account=other, actor=other.user, local="ASHA.SECOND")
    assert error.value.code == "abha_address_taken"
    with pytest.raises(DomainError):
        services.address_add(account=other, actor=other.user, local="a.b.c")


def test_mobile_change_goes_through_abdm_with_the_otp_sent_to_the_new_number(otp_api, abdm_sandbox):
    otp_api.enrol()
    account = AbhaAccount.objects.get()
    new = new_mobile()
    txn = services.account_otp_start(
        account=account, actor=account.user, purpose=OtpPurpose.MOBILE_CHANGE, new_mobile=new
    )
    assert txn.abdm_txn_id and not txn.otp_hash  # ABDM sent the OTP; nothing of it is kept here
    with pytest.raises(DomainError) as wrong:
        services.account_confirm(
            account=account, actor=account.user, txn_id=txn.uuid, otp="000000", purpose=OtpPurpose.MOBILE_CHANGE
        )
    assert wrong.value.code == "otp_invalid" and "otp" in wrong.value.fields
    services.account_confirm(
        account=account,
        actor=account.user,
        txn_id=txn.uuid,
        otp=abdm_sandbox.last_otp(new),
        purpose=OtpPurpose.MOBILE_CHANGE,
    )
    account.refresh_from_db()
    assert account.mobile == account.user.mobile == new
    assert AuditEvent.objects.get(action="abha.mobile_change").details["to"].endswith(new[-2:])
    assert services.account_profile_refresh(account=account).mobile == new  # ABDM holds the new mobile


def test_mobile_change_without_an_abdm_session_asks_to_sign_in_again(account):
    with pytest.raises(DomainError) as error:
        services.account_otp_start(
            account=account, actor=account.user, purpose=OtpPurpose.MOBILE_CHANGE, new_mobile="9123456789"
        )
    assert error.value.code == "abdm_sign_in_again"


def test_wrong_otp_does_not_apply_and_counts(account, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        txn = services.account_otp_start(account=account, actor=account.user, purpose=OtpPurpose.DEACTIVATE)
    with pytest.raises(DomainError) as error:
        services.account_confirm(
            account=account, actor=account.user, txn_id=txn.uuid, otp="000000", purpose=OtpPurpose.DEACTIVATE
        )
    assert error.value.code == "otp_invalid"
    assert OtpTransaction.objects.get(pk=txn.pk).failed_attempts == 1
    account.refresh_from_db()
    assert account.status == "active"


def test_deactivate_and_reactivate(account, confirm):
    confirm(account, OtpPurpose.DEACTIVATE)
    account.refresh_from_db()
    assert account.status == "deactivated" and account.deactivated_at
    with pytest.raises(DomainError):
        services.account_otp_start(account=account, actor=account.user, purpose=OtpPurpose.DEACTIVATE)
    confirm(account, OtpPurpose.REACTIVATE)
    account.refresh_from_db()
    assert account.status == "active" and account.deactivated_at is None


def test_delete_erases_personal_data_and_keeps_a_tombstone(account, confirm, api_as):
    AbhaAccount.objects.filter(pk=account.pk).update(abdm_token="sealed", abdm_refresh_token="sealed")
    services.address_add(account=account, actor=account.user, local="asha.patelx")
    client = api_as(account.user)
    number = account.abha_number
    confirm(account, OtpPurpose.DELETE)
    account = AbhaAccount.objects.get(abha_number=number)  # the number stays, never reissued
    assert account.status == "deleted" and account.deleted_at
    for field in (
        "first_name",
        "last_name",
        "mobile",
        "email",
        "address",
        "pincode",
        "abdm_token",
        "abdm_refresh_token",
    ):
        assert getattr(account, field) == ""
    assert account.year_of_birth == 0
    assert not AbhaAddress.objects.filter(account=account).exists()
    assert not account.user.is_active and account.user.first_name == ""
    assert not Token.objects.filter(user=account.user).exists()
    assert client.get("/api/v1/abha/me/").status_code == 401
    tombstone = AuditEvent.objects.get(action="abha.delete")
    assert tombstone.target_label == account.abha_number_display  # no name in the audit trail
    assert "Asha" not in "".join(AuditEvent.objects.values_list("target_label", flat=True))


def test_manage_pages_work_for_the_citizen(client, account, sms_outbox, django_capture_on_commit_callbacks):
    client.force_login(account.user)
    home = client.get(reverse("abha:home")).content.decode()
    for name in ("abha:contact", "abha:mobile_change", "abha:address_add", "abha:deactivate", "abha:delete"):
        assert reverse(name) in home
        assert client.get(reverse(name)).status_code == 200
    response = client.post(reverse("abha:contact"), {"address": "Lake Road", "pincode": "364002", "email": ""})
    assert response.url == reverse("abha:home")
    response = client.post(reverse("abha:address_add"), {"abha_address": "asha.lake", "make_primary": "on"})
    assert response.url == reverse("abha:home")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("abha:deactivate"))
    assert response.url == reverse("abha:change_confirm")
    response = client.post(reverse("abha:change_confirm"), {"otp": last_otp(sms_outbox)})
    assert response.url == reverse("abha:home")
    page = client.get(reverse("abha:home")).content.decode()
    assert "deactivated" in page and reverse("abha:reactivate") in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("abha:delete"))
    response = client.post(reverse("abha:change_confirm"), {"otp": last_otp(sms_outbox)})
    assert response.url == reverse("core:home")
    assert client.get(reverse("abha:home")).url == reverse("abha:signin")


def test_manage_pages_refuse_others(client):
    for name in ("abha:contact", "abha:mobile_change", "abha:address_add", "abha:deactivate", "abha:delete"):
        assert client.get(reverse(name)).url == reverse("abha:signin")


def test_old_otp_transactions_are_purged(resident):
    from datetime import timedelta

    from django.utils import timezone

    from abha.tasks import purge_otp_transactions

    old = services.enrolment_start(aadhaar=resident().aadhaar, consent_version="2025-04")
    fresh = services.enrolment_start(aadhaar=resident().aadhaar, consent_version="2025-04")
    OtpTransaction.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert purge_otp_transactions() == 1
    assert list(OtpTransaction.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert purge_otp_transactions() == 0
