"""Demo facilities across Gujarat's districts, with staff bound to two verified ones."""

from django.utils import timezone

from core.models import District, State

from .enums import FacilityStatus, FacilityType, MembershipRole, Ownership, Region, ServiceType, SystemOfMedicine
from .models import Counter, Facility, FacilityMembership

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
    for number, (name, district, kind, ownership, status, beds) in enumerate(_demo_rows(rng), start=1):
        district_obj = districts[district]
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
                "submitted_at": None if status == FacilityStatus.DRAFT else timezone.now(),
                "verified_at": timezone.now() if status == FacilityStatus.VERIFIED else None,
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
    verified = sum(1 for f in facilities if f.status == FacilityStatus.VERIFIED)
    out.write(f"  facilities: {len(facilities)} ({verified} verified)")
    return {"facilities": facilities}
