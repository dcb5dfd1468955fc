"""Records test helpers: bundles from tests/data, and records/consents made through the services."""

import datetime as dt
import json
import time
from pathlib import Path

from django.utils import timezone

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
