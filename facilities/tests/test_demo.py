import pytest
from django.core.management import call_command
from stdnum import luhn

from facilities.enums import FacilityStatus
from facilities.models import Counter, Facility, Professional

pytestmark = pytest.mark.django_db


def test_demo_registry_is_idempotent_with_counters_and_a_verified_demo_doctor(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    first = sorted(Professional.objects.values_list("registration_number", "hpr_id", "status"))
    call_command("seed_demo")
    assert sorted(Professional.objects.values_list("registration_number", "hpr_id", "status")) == first
    assert 30 <= len(first) <= 50
    doctor = Professional.objects.get(user__username="doctor")
    assert doctor.status == FacilityStatus.VERIFIED and luhn.is_valid(doctor.hpr_id) and doctor.hpr_id.startswith("71")
    assert doctor.affiliations.get().facility.name == "Bhavnagar Urban Health Centre Kumbharwada"
    verified = Facility.objects.filter(status=FacilityStatus.VERIFIED)
    assert Counter.objects.filter(code="OPD1", name="General OPD").count() == verified.count() > 0
    assert all(luhn.is_valid(hpr_id) for _, hpr_id, _ in first if hpr_id)
