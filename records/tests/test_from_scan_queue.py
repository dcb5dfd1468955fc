"""Staff add a record for a patient straight from today's Scan & Share queue (item 2 of the records issue)."""

import pytest
from django.utils import timezone

from abha.tests.factories import AbhaAccountFactory
from facilities.enums import MembershipRole
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory
from scanshare.services import token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    facility = FacilityFactory()
    counter = CounterFactory(facility=facility, code="OPD1")
    patient = AbhaAccountFactory()
    issued, _created = token_issue(
        account=patient, actor=patient.user, hip_id=facility.facility_id, counter_code=counter.code
    )
    return issued


def test_the_queue_prefills_the_record_form_for_staff_of_that_facility(client, token):
    staff = MembershipFactory(facility=token.facility, role=MembershipRole.STAFF).user
    client.force_login(staff)
    form = client.get(f"/records/add/?token={token.uuid}").context["form"]
    assert form.initial["patient"] == token.patient.abha_number
    assert form.initial["facility"] == token.facility
    assert form.initial["reference"] == f"OPD-{timezone.localdate():%Y%m%d}-OPD1-{token.number}"


def test_staff_of_another_facility_get_nothing_from_the_token(client, token):
    outsider = MembershipFactory(facility=FacilityFactory(), role=MembershipRole.STAFF).user
    client.force_login(outsider)
    response = client.get(f"/records/add/?token={token.uuid}")
    assert response.status_code == 200
    assert "patient" not in response.context["form"].initial
    assert token.patient.abha_number not in response.content.decode()


@pytest.mark.parametrize("value", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", ""])
def test_a_bad_token_is_ignored(client, token, value):
    staff = MembershipFactory(facility=token.facility, role=MembershipRole.STAFF).user
    client.force_login(staff)
    response = client.get(f"/records/add/?token={value}")
    assert response.status_code == 200
    assert "patient" not in response.context["form"].initial


def test_the_counter_queue_links_each_token_to_the_record_form(client, token):
    staff = MembershipFactory(facility=token.facility, role=MembershipRole.STAFF).user
    client.force_login(staff)
    page = client.get(f"/facilities/{token.facility.uuid}/scan-queue/").content.decode()
    assert f'href="/records/add/?token={token.uuid}"' in page


def test_a_token_shared_by_abha_address_only_prefills_nothing(client, token):
    # The ABHA app can share an address-only ABHA: the token has no portal account, so no number to prefill.
    token.patient = None
    token.abha_address = "asha.patel@sbx"
    token.save(update_fields=["patient", "abha_address"])
    staff = MembershipFactory(facility=token.facility, role=MembershipRole.STAFF).user
    client.force_login(staff)
    response = client.get(f"/records/add/?token={token.uuid}")
    assert response.status_code == 200
    assert "patient" not in response.context["form"].initial
