import datetime as dt
from types import SimpleNamespace

import pytest

from abha.tests.factories import AbhaAccountFactory
from core.enums import Role
from core.tests.factories import UserFactory
from facilities.enums import MembershipRole
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records.enums import HiType

from .factories import add_record


@pytest.fixture
def world(db):
    """Two source facilities (A, B) with staff, a requesting facility C with a doctor, a patient
    with records at A and B, another citizen and an outsider doctor at D."""
    facility_a = FacilityFactory(name="Sir T General Hospital")
    facility_b = FacilityFactory(name="Sihor CHC")
    facility_c = FacilityFactory(name="Civil Hospital Ahmedabad")
    facility_d = FacilityFactory(name="Other Clinic")
    staff_a = MembershipFactory(facility=facility_a, user__role=Role.FACILITY_STAFF).user
    staff_b = MembershipFactory(facility=facility_b, user__role=Role.FACILITY_STAFF).user
    doctor = UserFactory(role=Role.DOCTOR, first_name="Anjali", last_name="Mehta", mobile="9812345678")
    MembershipFactory(facility=facility_c, user=doctor, role=MembershipRole.DOCTOR)
    other_doctor = UserFactory(role=Role.DOCTOR, first_name="Ravi", last_name="Shah")
    MembershipFactory(facility=facility_d, user=other_doctor, role=MembershipRole.DOCTOR)
    colleague = UserFactory(role=Role.DOCTOR, first_name="Colleague", last_name="Doctor")
    MembershipFactory(facility=facility_c, user=colleague, role=MembershipRole.DOCTOR)
    patient = AbhaAccountFactory(first_name="Asha")
    other_citizen = AbhaAccountFactory(first_name="Bina")
    records = SimpleNamespace(
        a_rx=add_record(
            staff=staff_a,
            facility=facility_a,
            patient=patient,
            hi_type=HiType.PRESCRIPTION,
            date=dt.date(2025, 2, 10),
            key="a-rx",
        ),
        a_lab=add_record(
            staff=staff_a,
            facility=facility_a,
            patient=patient,
            hi_type=HiType.DIAGNOSTIC_REPORT,
            date=dt.date(2025, 3, 5),
            key="a-lab",
        ),
        a_old=add_record(
            staff=staff_a,
            facility=facility_a,
            patient=patient,
            hi_type=HiType.PRESCRIPTION,
            date=dt.date(2024, 6, 1),
            key="a-old",
        ),
        b_op=add_record(
            staff=staff_b,
            facility=facility_b,
            patient=patient,
            hi_type=HiType.OP_CONSULTATION,
            date=dt.date(2025, 1, 20),
            key="b-op",
        ),
        b_rx=add_record(
            staff=staff_b,
            facility=facility_b,
            patient=patient,
            hi_type=HiType.PRESCRIPTION,
            date=dt.date(2025, 2, 15),
            key="b-rx",
        ),
    )
    return SimpleNamespace(
        a=facility_a,
        b=facility_b,
        c=facility_c,
        d=facility_d,
        staff_a=staff_a,
        staff_b=staff_b,
        doctor=doctor,
        other_doctor=other_doctor,
        colleague=colleague,
        patient=patient,
        citizen=patient.user,
        other_citizen=other_citizen.user,
        records=records,
    )


@pytest.fixture
def contexts():
    """Browser contexts opened by a browser test (records/tests/browser.py), closed at the end so the live server's
    threads release the database."""
    opened = []
    yield opened
    for context in opened:
        context.close()
