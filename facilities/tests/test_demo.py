import pytest
from django.core.management import call_command

from abdm import bridge_services, hfr
from abdm.models import OutboxMessage
from facilities.enums import FacilityStatus
from facilities.models import Counter, Facility, Professional

pytestmark = pytest.mark.django_db


def test_demo_registry_is_idempotent_with_ids_from_the_sandbox_and_a_verified_demo_doctor(settings, abdm_sandbox):
    settings.DEBUG = True
    call_command("seed_demo")
    first = sorted(Professional.objects.values_list("registration_number", "hpr_id", "status"))
    facility_ids = sorted(Facility.objects.values_list("name", "facility_id"))
    call_command("seed_demo")
    assert sorted(Professional.objects.values_list("registration_number", "hpr_id", "status")) == first
    assert sorted(Facility.objects.values_list("name", "facility_id")) == facility_ids
    assert 30 <= len(first) <= 50
    doctor = Professional.objects.get(user__username="doctor")
    assert doctor.status == FacilityStatus.VERIFIED
    on_hpr = hfr.professional_by_hpr_id(doctor.hpr_id)  # HPR gave the ID, under the doctor's name
    assert on_hpr is not None and hfr.person_names_agree(doctor.name, on_hpr.name)
    assert doctor.affiliations.get().facility.name == "Bhavnagar Urban Health Centre Kumbharwada"
    hospital = Facility.objects.get(name="Sir Takhtsinhji General Hospital")
    on_hfr = hfr.facility_by_id(hospital.facility_id)  # HFR gave the ID, with the same name and district
    assert on_hfr is not None and not hfr.facility_disagreements(
        on_hfr, name=hospital.name, state_lgd=24, district_lgd=hospital.district_id
    )
    assert not Facility.objects.filter(status=FacilityStatus.DRAFT, facility_id__isnull=False).exists()
    verified = Facility.objects.filter(status=FacilityStatus.VERIFIED)
    assert Counter.objects.filter(code="OPD1", name="General OPD").count() == verified.count() > 0
    # Each verified demo facility is queued once as an HIP service of the bridge, on both runs together.
    queued = OutboxMessage.objects.filter(kind=bridge_services.HIP_SERVICE_KIND)
    assert sorted(queued.values_list("body__facilityId", flat=True)) == sorted(
        verified.values_list("facility_id", flat=True)
    )
