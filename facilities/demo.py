"""Demo facilities across Gujarat's districts, with staff bound to two verified ones."""

import datetime

from django.utils import timezone
from stdnum import luhn

from core.models import District, State

from .enums import (
    Council,
    FacilityStatus,
    FacilityType,
    MembershipRole,
    NurseCadre,
    Ownership,
    ProfessionalCategory,
    Region,
    RegistrationType,
    ServiceType,
    SystemOfMedicine,
    WorkStatus,
)
from .models import Affiliation, Counter, Facility, FacilityMembership, Professional

GUJARAT = 24
BHAVNAGAR = 443
AHMADABAD = 438

# (name, district LGD, type, ownership, status, beds)
DEMO_FACILITIES = [
    (
        "Sir Takhtsinhji General Hospital",
        BHAVNAGAR,
        FacilityType.MEDICAL_COLLEGE,
        Ownership.GOVERNMENT,
        "verified",
        1200,
    ),
    ("Bhavnagar Urban Health Centre Kumbharwada", BHAVNAGAR, FacilityType.PHC, Ownership.GOVERNMENT, "verified", 6),
    ("Shiv Nursing Home Bhavnagar", BHAVNAGAR, FacilityType.NURSING_HOME, Ownership.PRIVATE, "submitted", 20),
    ("Sihor Community Health Centre", BHAVNAGAR, FacilityType.CHC, Ownership.GOVERNMENT, "verified", 30),
    ("Mahuva Eye Clinic", BHAVNAGAR, FacilityType.CLINIC, Ownership.PRIVATE, "draft", 0),
    ("Civil Hospital Ahmedabad", AHMADABAD, FacilityType.MEDICAL_COLLEGE, Ownership.GOVERNMENT, "verified", 2800),
    ("Sanjivani Multispeciality Hospital", AHMADABAD, FacilityType.HOSPITAL, Ownership.PRIVATE, "verified", 150),
    ("Maninagar Diagnostic Lab", AHMADABAD, FacilityType.DIAGNOSTIC_LAB, Ownership.PRIVATE, "submitted", 0),
]
OTHER_TYPES = [FacilityType.PHC, FacilityType.CLINIC, FacilityType.HOSPITAL, FacilityType.CHC, FacilityType.PHARMACY]
OTHER_DISTRICTS = [459, 457, 461, 447, 448, 451, 449, 442, 453, 462]  # Surat, Rajkot, Vadodara, ...
STATUSES = ["verified", "verified", "verified", "submitted", "draft", "rejected"]


def _demo_rows(rng):
    rows = list(DEMO_FACILITIES)
    for index in range(28):
        district = OTHER_DISTRICTS[index % len(OTHER_DISTRICTS)]
        kind = OTHER_TYPES[index % len(OTHER_TYPES)]
        status = STATUSES[rng.randrange(len(STATUSES))]
        ownership = Ownership.GOVERNMENT if kind in (FacilityType.PHC, FacilityType.CHC) else Ownership.PRIVATE
        beds = {FacilityType.HOSPITAL: 60, FacilityType.CHC: 30, FacilityType.PHC: 6}.get(kind, 0)
        rows.append((f"{kind.label} {index + 1}", district, kind, ownership, status, beds))
    return rows


def seed(*, rng, password: str, out, users: dict, **_) -> dict:
    gujarat = State.objects.get(lgd_code=GUJARAT)
    districts = {d.lgd_code: d for d in District.objects.filter(state=gujarat)}
    facilities = []
    now = timezone.now()
    for number, (name, district, kind, ownership, status, beds) in enumerate(_demo_rows(rng), start=1):
        district_obj = districts[district]
        # Registered over the two years before the microsites started (a demo whose story ends today), a week to
        # verify.
        submitted = now - datetime.timedelta(days=720 - 10 * number)
        facility, _ = Facility.objects.get_or_create(
            name=name,
            district=district_obj,
            defaults={
                "state": gujarat,
                "facility_type": kind,
                "ownership": ownership,
                "status": status,
                "beds": beds,
                "pincode": f"{360000 + district % 100 * 100 + number:06d}",
                "address": f"{district_obj.name}, Gujarat",
                # Demo IDs are fixed so links in the README and screenshots stay valid.
                "facility_id": None if status == FacilityStatus.DRAFT else f"IN{GUJARAT}{10000000 + number * 7919:08d}",
                "systems_of_medicine": [SystemOfMedicine.MODERN],
                "service_type": ServiceType.OPD_IPD if beds else ServiceType.OPD,
                "region": Region.URBAN if number % 3 else Region.RURAL,
                "contact_mobile": f"9{number:09d}",
                "timings": "Mon-Sat 09:00-17:00",
                "submitted_at": None if status == FacilityStatus.DRAFT else submitted,
                "verified_at": submitted + datetime.timedelta(days=7) if status == FacilityStatus.VERIFIED else None,
                "rejection_reason": "Address does not match the pincode." if status == FacilityStatus.REJECTED else "",
            },
        )
        facilities.append(facility)
    by_name = {f.name: f for f in facilities}
    staff_home = by_name["Sir Takhtsinhji General Hospital"]
    doctor_home = by_name["Bhavnagar Urban Health Centre Kumbharwada"]
    for username, facility, role in [
        ("facility_admin", staff_home, MembershipRole.ADMIN),
        ("facility_staff", staff_home, MembershipRole.STAFF),
        ("doctor", doctor_home, MembershipRole.DOCTOR),
    ]:
        FacilityMembership.objects.get_or_create(user=users[username], facility=facility, defaults={"role": role})
    for facility in facilities:
        if facility.status == FacilityStatus.VERIFIED:
            Counter.objects.get_or_create(facility=facility, code="OPD1", defaults={"name": "General OPD"})
    professionals = _seed_professionals(users=users, facilities=facilities, districts=districts, gujarat=gujarat)
    verified = sum(1 for f in facilities if f.status == FacilityStatus.VERIFIED)
    out.write(f"  facilities: {len(facilities)} ({verified} verified), professionals: {len(professionals)}")
    return {"facilities": facilities, "professionals": professionals}


FIRST_NAMES = [
    "Anjali",
    "Rakesh",
    "Hetal",
    "Imran",
    "Komal",
    "Jignesh",
    "Pooja",
    "Sandeep",
    "Farida",
    "Vishal",
    "Nisha",
]
LAST_NAMES = ["Mehta", "Patel", "Shah", "Desai", "Trivedi", "Parmar", "Vora", "Chauhan", "Joshi", "Pathan", "Rana"]
# (category, sub-category, council, degree)
KINDS = [
    (ProfessionalCategory.DOCTOR, "modern", Council.GUJARAT_MEDICAL, "MBBS"),
    (ProfessionalCategory.DOCTOR, "ayurveda", Council.GUJARAT_AYUSH, "BAMS"),
    (ProfessionalCategory.DOCTOR, "dentistry", Council.GUJARAT_DENTAL, "BDS"),
    (ProfessionalCategory.NURSE, NurseCadre.RN_RM, Council.GUJARAT_NURSING, "B.Sc Nursing"),
    (ProfessionalCategory.NURSE, NurseCadre.RANM, Council.GUJARAT_NURSING, "ANM"),
    (ProfessionalCategory.PHARMACIST, "", Council.GUJARAT_PHARMACY, "B.Pharm"),
]


def _seed_professionals(*, users, facilities, districts, gujarat) -> list[Professional]:
    """36 professionals (deterministic, idempotent on council + registration number); the demo doctor is verified."""
    # Users may have suspended or closed every demo facility since the first run: then any of them will do.
    verified_facilities = [f for f in facilities if f.status == FacilityStatus.VERIFIED] or list(facilities)
    doctor_home = next(f for f in facilities if f.name == "Bhavnagar Urban Health Centre Kumbharwada")
    rows = [("Dr Anjali Mehta", KINDS[0], "G-24511", users["doctor"], doctor_home, FacilityStatus.VERIFIED)]
    for index in range(35):
        kind = KINDS[index % len(KINDS)]
        prefix = "Dr " if kind[0] == ProfessionalCategory.DOCTOR else ""
        name = f"{prefix}{FIRST_NAMES[index % 11]} {LAST_NAMES[(index * 7) % 11]}"
        status = [FacilityStatus.VERIFIED] * 4 + [FacilityStatus.SUBMITTED, FacilityStatus.DRAFT]
        rows.append(
            (
                name,
                kind,
                f"D-{30000 + index}",
                None,
                verified_facilities[index % len(verified_facilities)],
                status[index % 6],
            )
        )
    professionals = []
    for number, (name, (category, sub, council, degree), reg_no, user, facility, status) in enumerate(rows, start=1):
        renewable = number % 5 == 0
        registered = timezone.now() - datetime.timedelta(days=700 - 10 * number)
        professional, created = Professional.objects.get_or_create(
            council=council,
            registration_number=reg_no,
            defaults={
                "user": user,
                "name": name,
                "category": category,
                "sub_category": sub,
                "registration_date": datetime.date(2010 + number % 12, 1 + number % 12, 1 + number % 28),
                "registration_type": RegistrationType.RENEWABLE if renewable else RegistrationType.PERMANENT,
                # Every tenth renewable registration is past due, so the directory shows a lapsed one.
                "renewal_due_date": datetime.date(2024 if number % 10 == 0 else 2030, 3, 31) if renewable else None,
                "qualifications": [{"degree": degree, "college": "Government College, Gujarat", "year": 2008}],
                "work_status": WorkStatus.GOVERNMENT
                if facility.ownership == Ownership.GOVERNMENT
                else WorkStatus.PRIVATE,
                "mobile": f"7{number:09d}",
                "state": gujarat,
                "district": facility.district,
                "status": status,
                # Fixed demo HPR IDs (71 + 11 digits + Luhn check digit) keep links stable.
                "hpr_id": _demo_hpr_id(number) if status == FacilityStatus.VERIFIED else None,
                "submitted_at": None if status == FacilityStatus.DRAFT else registered,
                "verified_at": registered + datetime.timedelta(days=14) if status == FacilityStatus.VERIFIED else None,
            },
        )
        if created:
            Affiliation.objects.create(
                professional=professional,
                facility=facility,
                confirmed_at=timezone.now() if status == FacilityStatus.VERIFIED else None,
            )
        professionals.append(professional)
    return professionals


def _demo_hpr_id(number: int) -> str:
    body = f"71{10000000000 + number * 7919:011d}"
    return body + luhn.calc_check_digit(body)
