"""Demo facilities across Gujarat's districts, with staff bound to two verified ones.

Their IDs come from ABDM: every demo facility that is not a draft is first created in the local sandbox's HFR, and
every demo professional past draft in its HPR (the sandbox's helper endpoints /sandbox/v1/hfr/facilities and
/sandbox/v1/hpr/professionals, which mint IDs as ABDM does), and the portal keeps the IDs they answer. A second run
sends the IDs it has, so the sandbox keeps (or, with a fresh sandbox database, recreates) the same ones. Verified
facilities are registered as HIP services of the bridge through the outbox, as a verification does.
"""

import datetime
import os

import requests
from django.conf import settings
from django.utils import timezone

from abdm import bridge_services, outbox
from core.exceptions import DomainError
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


def sandbox_url() -> str:
    """The local ABDM sandbox's root: ABDM_SANDBOX_URL (the tests export it), else the gateway URL (`make run`'s
    sandbox serves the gateway at its root)."""
    return (os.environ.get("ABDM_SANDBOX_URL") or settings.ABDM_GATEWAY_URL).rstrip("/")


def sandbox_seed(path: str, key: str, items: list[dict]) -> list[dict]:
    """POST the demo's entries to a sandbox helper (one call for all of them); its answer's entries, in order."""
    if not items:
        return []
    try:
        response = requests.post(f"{sandbox_url()}{path}", json={key: items}, timeout=settings.ABDM_TIMEOUT)
    except requests.RequestException as error:
        raise DomainError(f"the ABDM sandbox at {sandbox_url()} is not answering ({type(error).__name__})") from None
    if response.status_code != 201:
        raise DomainError(f"the ABDM sandbox refused the demo's {key} ({response.status_code})")
    return response.json()[key]


def _hfr_entry(facility_id, name, district, kind, ownership, number) -> dict:
    return {
        **({"facilityId": facility_id} if facility_id else {}),
        "facilityName": name,
        "ownershipCode": ownership,
        "stateLGDCode": str(GUJARAT),
        "stateName": "Gujarat",
        "districtLGDCode": str(district.lgd_code),
        "districtName": district.name,
        "facilityType": str(kind.label),
        "systemOfMedicineCode": "M",
        "address": f"{district.name}, Gujarat",
        "pincode": f"{360000 + district.lgd_code % 100 * 100 + number:06d}",
        "facilityStatus": "Approved",
    }


def seed(*, rng, password: str, out, users: dict, **_) -> dict:
    gujarat = State.objects.get(lgd_code=GUJARAT)
    districts = {d.lgd_code: d for d in District.objects.filter(state=gujarat)}
    rows = _demo_rows(rng)
    known = {(f.name, f.district_id): f.facility_id for f in Facility.objects.filter(name__in=[r[0] for r in rows])}
    # Every facility past draft is on HFR first; the sandbox mints the IDs of new ones and keeps the given ones.
    on_hfr = [(number, row) for number, row in enumerate(rows, start=1) if row[4] != FacilityStatus.DRAFT]
    answered = sandbox_seed(
        "/sandbox/v1/hfr/facilities",
        "facilities",
        [
            _hfr_entry(known.get((name, district)), name, districts[district], kind, ownership, number)
            for number, (name, district, kind, ownership, _status, _beds) in on_hfr
        ],
    )
    hfr_ids = {number: entry["facilityId"] for (number, _row), entry in zip(on_hfr, answered, strict=True)}
    facilities = []
    now = timezone.now()
    for number, (name, district, kind, ownership, status, beds) in enumerate(rows, start=1):
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
                "facility_id": hfr_ids.get(number),  # from the sandbox's HFR; a draft is not on HFR yet
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
    _register_hips(facilities)
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


def _register_hips(facilities) -> None:
    """Verified demo facilities become active HIP services of the bridge, through the outbox as a verification
    does; once each (a facility ABDM confirmed, or with a message already, is left alone)."""
    for facility in facilities:
        if facility.status != FacilityStatus.VERIFIED or facility.hip_active or not facility.facility_id:
            continue
        if outbox.messages_for(facility).filter(kind=bridge_services.HIP_SERVICE_KIND).exists():
            continue
        bridge_services.hip_service_enqueue(
            facility_id=facility.facility_id, name=facility.name, active=True, subject=facility
        )


# HPR's categories (GET /hpid/get/categories): 1 doctor, 2 nurse, 6 pharmacist.
HPR_CATEGORIES = {
    ProfessionalCategory.DOCTOR: "1",
    ProfessionalCategory.NURSE: "2",
    ProfessionalCategory.PHARMACIST: "6",
}


def _hpr_ids(rows) -> dict[str, str]:
    """HPR ID numbers (14 digits) from the sandbox's HPR for the demo professionals past draft, by registration
    number; one call. A professional seeded before keeps their number."""
    known = dict(
        Professional.objects.filter(registration_number__in=[row[2] for row in rows], hpr_id__isnull=False).values_list(
            "registration_number", "hpr_id"
        )
    )
    wanted = [row for row in rows if row[5] != FacilityStatus.DRAFT]
    answered = sandbox_seed(
        "/sandbox/v1/hpr/professionals",
        "professionals",
        [
            {
                **({"hprIdNumber": known[reg_no]} if reg_no in known else {}),
                "name": name.removeprefix("Dr "),
                "categoryId": HPR_CATEGORIES[category],
                "categoryName": str(category.label),
                "stateCode": str(GUJARAT),
                "registrationNumber": reg_no,
                "councilName": str(council.label),
            }
            for name, (category, _sub, council, _degree), reg_no, _user, _facility, _status in wanted
        ],
    )
    return {row[2]: entry["hprIdNumber"].replace("-", "") for row, entry in zip(wanted, answered, strict=True)}


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
    hpr_ids = _hpr_ids(rows)
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
                "hpr_id": hpr_ids.get(reg_no),  # from the sandbox's HPR; a draft has not entered it yet
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
