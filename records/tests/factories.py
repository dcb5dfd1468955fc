"""Records test helpers: bundles from tests/data, and records/consents made through the services."""

import datetime as dt
import json
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from abdm import client
from abha.tests.factories import known_to_sandbox
from records import services
from records.enums import HiType
from records.fhir import bundle_with_patient

DATA = Path(__file__).resolve().parent.parent / "fixtures" / "fhir"


def load_bundle(hi_type: str) -> dict:
    """One of the seven real ABDM bundles (a fresh copy each call)."""
    return json.loads((DATA / f"Bundle-{hi_type}.json").read_text())


# ABDM published no Invoice sample: the hiTypes with one (the seven in /work/shared/data/fhir).
ALL_BUNDLES = {hi_type: load_bundle(hi_type) for hi_type in HiType.values if (DATA / f"Bundle-{hi_type}.json").exists()}


def bundle_for(hi_type: str, *, key: str | None = None, patient=None) -> dict:
    """A real bundle whose Patient names `patient`'s ABHA number, or no ABHA without `patient` (the samples'
    own number, 22-7225-4829-5255, would make the portal refuse to file them for anyone else)."""
    bundle = bundle_with_patient(ALL_BUNDLES[hi_type], patient_abha=patient.abha_number if patient else "")
    if key is not None:
        bundle["id"] = key
        bundle.setdefault("identifier", {})["value"] = key
    return bundle


def add_record(*, staff, facility, patient, hi_type=HiType.PRESCRIPTION, date=None, reference=None, key=None):
    date = date or dt.date(2025, 2, 10)
    reference = reference or f"CC-{hi_type}-{date:%Y%m%d}-{key or 'x'}"
    record, _created = services.record_add(
        actor=staff,
        facility=facility,
        patient=patient,
        reference=reference,
        display=f"OPD visit, {date:%d %b %Y}",
        date=date,
        hi_type=hi_type,
        bundle=bundle_for(hi_type, key=key, patient=patient),
    )
    return record


def request_consent(*, doctor, patient, hi_types=None, date_from=None, date_to=None, days=30, **kwargs):
    return services.consent_request_create(
        actor=doctor,
        patient_identifier=patient.addresses.first().full,
        purpose=kwargs.pop("purpose", "CAREMGT"),
        hi_types=hi_types or [HiType.PRESCRIPTION, HiType.DIAGNOSTIC_REPORT],
        date_from=date_from or dt.date(2025, 1, 1),
        date_to=date_to or dt.date(2025, 3, 31),
        data_erase_at=timezone.now() + dt.timedelta(days=days),
        **kwargs,
    )


def wait_until(check, seconds=60, what="the condition"):
    """check()'s first truthy value, asked every quarter second (a worker or the sandbox answers meanwhile);
    AssertionError naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"Timed out waiting for {what}")


# --- The ABDM sandbox's side of a test network (its /sandbox/v1 helpers and HFR over HTTP) ---------------------


def sandbox_hfr_facility(sandbox, name, *, state=24, state_name="GUJARAT", district=438, district_name="Ahmedabad"):
    """A facility seeded on the sandbox's HFR; its HFR ID."""
    seeded = sandbox.post(
        "hfr/facilities",
        json={"facilityName": name, "ownershipCode": "G", "stateLGDCode": str(state), "stateName": state_name,
              "districtLGDCode": str(district), "districtName": district_name},
    )  # fmt: skip
    assert seeded.status_code == 201, seeded.text
    return seeded.json()["facilities"][0]["facilityId"]


def sandbox_hip_of_this_portal(hip_id, name):
    """The facility active on ABDM as an HIP of this portal's bridge (HFR bridge services, as the portal itself)."""
    services = [{"bridgeId": settings.ABDM_CLIENT_ID, "hipName": name, "type": "HIP", "active": True}]
    body = {"facilityId": hip_id, "facilityName": name, "HRP": services}
    assert client.hfr_request("POST", "/v1/bridges/MutipleHRPAddUpdateServices", json=body) is not None


def sandbox_patient(sandbox, patient):
    """The account known to the sandbox's ABHA by its number, name and mobile; its ABHA address there (the one the
    portal's factory gave it)."""
    address = known_to_sandbox(sandbox, patient)[0]["preferredAbhaAddress"]
    assert address == patient.addresses.first().full
    return address
