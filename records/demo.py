"""Demo records: a few visits for the demo citizens at the two demo facilities, and one pending
consent request from the demo doctor. Deterministic and idempotent (records are keyed by facility
+ visit reference + bundle identity; the request is made only when none is pending)."""

import datetime as dt
import json
from pathlib import Path

from django.utils import timezone

from abha.models import AbhaAccount

from . import services
from .enums import ConsentStatus, HiType
from .fhir import bundle_with_patient
from .models import ConsentRequest

BUNDLES = Path(__file__).resolve().parent / "fixtures" / "fhir"

# (facility name, actor username, reference, visit label, date, hiType)
DEMO_VISITS = [
    (
        "Sir Takhtsinhji General Hospital",
        "facility_staff",
        "STG-OPD-2025-0142",
        "OPD visit, 10 Feb 2025",
        dt.date(2025, 2, 10),
        HiType.PRESCRIPTION,
    ),
    (
        "Sir Takhtsinhji General Hospital",
        "facility_staff",
        "STG-LAB-2025-0311",
        "CT scan, 5 Mar 2025",
        dt.date(2025, 3, 5),
        HiType.DIAGNOSTIC_REPORT,
    ),
    (
        "Sir Takhtsinhji General Hospital",
        "facility_staff",
        "STG-IPD-2024-0890",
        "Admission, Jul 2024",
        dt.date(2024, 7, 9),
        HiType.DISCHARGE_SUMMARY,
    ),
    (
        "Bhavnagar Urban Health Centre Kumbharwada",
        "doctor",
        "UHC-OPD-2025-0031",
        "OPD visit, 20 Jan 2025",
        dt.date(2025, 1, 20),
        HiType.OP_CONSULTATION,
    ),
    (
        "Bhavnagar Urban Health Centre Kumbharwada",
        "doctor",
        "UHC-IMM-2025-0007",
        "Vaccination, 21 Feb 2025",
        dt.date(2025, 2, 21),
        HiType.IMMUNIZATION_RECORD,
    ),
]


def _citizen_accounts(citizens) -> list[AbhaAccount]:
    if isinstance(citizens, dict):
        citizens = list(citizens.values())
    accounts = [getattr(c, "abha", c) for c in citizens or []]
    accounts = [a for a in accounts if isinstance(a, AbhaAccount)]
    return accounts or list(AbhaAccount.objects.active().order_by("id")[:2])


def seed(*, rng, password: str, out, users: dict, facilities: list, citizens=None, **_) -> dict:
    accounts = _citizen_accounts(citizens)
    if not accounts:
        out.write("  records: skipped (no demo citizens)")
        return {}
    by_name = {f.name: f for f in facilities}
    added = 0
    for number, account in enumerate(accounts[:2]):
        for facility_name, username, reference, label, date, hi_type in DEMO_VISITS:
            sample = json.loads((BUNDLES / f"Bundle-{hi_type}.json").read_text())
            bundle = bundle_with_patient(sample, patient_abha=account.abha_number)  # ABDM's sample names another
            _record, created = services.record_add(
                actor=users[username],
                facility=by_name[facility_name],
                patient=account,
                reference=f"{reference}-{number + 1}",
                display=label,
                date=date,
                hi_type=hi_type,
                bundle=bundle,
            )
            added += created
    # One older visit kept by demographics, for the demo citizen to find and link (with an OTP).
    patient = accounts[0]
    bundle = json.loads((BUNDLES / "Bundle-WellnessRecord.json").read_text())
    _record, created = services.record_add(
        actor=users["facility_staff"],
        facility=by_name["Sir Takhtsinhji General Hospital"],
        patient=None,
        reference="STG-OPD-2019-0456",
        display="Health check-up, Nov 2019",
        date=dt.date(2019, 11, 12),
        hi_type=HiType.WELLNESS_RECORD,
        bundle=bundle,
        demographics={
            "name": patient.full_name,
            "mobile": patient.mobile,
            "gender": patient.gender,
            "year_of_birth": patient.year_of_birth,
        },
    )
    added += created
    doctor = users["doctor"]
    if not ConsentRequest.objects.filter(requester=doctor, patient=patient, status=ConsentStatus.REQUESTED).exists():
        services.consent_request_create(
            actor=doctor,
            patient_identifier=patient.addresses.order_by("-is_primary", "id").first().full,
            purpose="CAREMGT",
            hi_types=[HiType.PRESCRIPTION, HiType.DIAGNOSTIC_REPORT, HiType.DISCHARGE_SUMMARY],
            date_from=dt.date(2024, 1, 1),
            date_to=dt.date(2025, 12, 31),
            data_erase_at=timezone.now() + dt.timedelta(days=30),
        )
    abdm_request = _abdm_demo_request(doctor, patient)
    out.write(
        f"  records: {added} new health records for {min(len(accounts), 2)} citizens, "
        "1 pending consent request, 1 older visit to link"
        + (f", 1 request through ABDM (records erased at {abdm_request:%H:%M} UTC)" if abdm_request else "")
    )
    return {}


# The demo's request through ABDM: the citizen grants it in the sandbox's ABHA app (/sandbox/v1/app/, in Hindi with
# ?lang=hi), the doctor reads the records the HIP pushed, and DEMO_ERASE_MINUTES after seeding they are erased.
DEMO_ERASE_MINUTES = 30


def _abdm_demo_request(doctor, patient):
    """One consent request through ABDM from the demo doctor, when none is open; its dataEraseAt, or None."""
    from . import hiu
    from .enums import HiuRequestStatus
    from .models import HiuConsentRequest

    address = hiu.abha_address_for_demo(patient)
    if address is None:
        return None
    open_states = [HiuRequestStatus.QUEUED, HiuRequestStatus.REQUESTED]
    existing = HiuConsentRequest.objects.filter(requester=doctor, patient_address=address, status__in=open_states)
    if existing.exists():
        return existing.first().data_erase_at
    now = timezone.now()
    made = hiu.consent_request_create(
        actor=doctor,
        patient_address=address,
        purpose="CAREMGT",
        hi_types=[HiType.PRESCRIPTION, HiType.DIAGNOSTIC_REPORT, HiType.IMMUNIZATION_RECORD],
        date_from=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        date_to=now,
        data_erase_at=now + dt.timedelta(minutes=DEMO_ERASE_MINUTES),
    )
    return made.data_erase_at
