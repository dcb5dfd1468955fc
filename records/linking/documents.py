"""The index document of a record stored without a bundle (fhir.index_bundle) and its summary, built on read.

A linking job's row without a bundle or PDF is linked as a record whose `bundle` and `summary` are NULL: storing
2 lakh small generated documents (about 2 KB of JSON each, twice with the summary) cost more than the rest of the
linking, and what they said (the visit's title, date and type, the patient, the facility) is in the record's own
fields. Whoever reads such a record gets its document from here, from those fields, its patient as linked now and
its facility as named now.

The canonical text is made once per shape from fhir.index_bundle with placeholder values, and each record only
fills in its escaped strings: byte for byte what `json.dumps(index_bundle(...), sort_keys=True,
separators=(",", ":"))` gives (a test checks this), fast enough for a page of records or a scale run.
"""

import functools
import hashlib
import json

from django.conf import settings

from abha.identifiers import abha_number_display

from ..fhir import abha_identifier_value, facility_system, index_bundle, summarize

_FIELDS = ("id", "title", "date", "abha", "name", "custodian", "facility", "system")


def _slot(name: str) -> str:
    return f"@@{name}@@"


def _fill_template(text: str) -> str:
    text = text.replace("{", "{{").replace("}", "}}")
    for name in _FIELDS:
        text = text.replace(_slot(name), "{" + name + "}")
    return text


@functools.cache
def _templates(hi_type: str, has_abha: bool, has_name: bool, has_facility: bool) -> tuple[str, str]:
    bundle = index_bundle(
        bundle_id=_slot("id"),
        hi_type=hi_type,
        title=_slot("title"),
        date=_slot("date"),
        patient_abha=_slot("abha") if has_abha else "",
        patient_name=_slot("name") if has_name else "",
        custodian=_slot("custodian"),
        facility_id=_slot("facility") if has_facility else "",
        system=_slot("system"),
    )
    canonical = json.dumps(bundle, sort_keys=True, separators=(",", ":"))
    summary = json.dumps(summarize(bundle), separators=(",", ":"))
    return _fill_template(canonical), _fill_template(summary)


_PLAIN = frozenset(chr(code) for code in range(32, 127)) - {'"', "\\"}


def escaped(value: str) -> str:
    """A string's JSON form without its quotes (ASCII-only, as bundle_sha256 serialises)."""
    if _PLAIN.issuperset(value):  # most values (ids, dates, English titles) need no escaping
        return value
    return json.dumps(value)[1:-1]


@functools.lru_cache(maxsize=64)
def _facility_values(facility_id: str, base_url: str) -> tuple[str, str]:
    """(escaped facility ID, escaped identifier system): the same for every row of a job (`base_url`, the system's
    base, is part of the key so that a changed PORTAL_BASE_URL is not served stale)."""
    return escaped(facility_id), escaped(facility_system(facility_id))


def index_document(
    *,
    bundle_id: str,
    hi_type: str,
    title: str,
    date: str,
    patient_abha: str,
    patient_name: str,
    custodian: str,
    facility_id: str = "",
) -> tuple[str, str, str]:
    """(bundle JSON text, summary JSON text, sha256 of the bundle) for fhir.index_bundle(...) with these values.

    `custodian` is passed already escaped (it is the same for a whole job)."""
    bundle_template, summary_template = _templates(hi_type, bool(patient_abha), bool(patient_name), bool(facility_id))
    facility, system = _facility_values(facility_id, settings.PORTAL_BASE_URL)
    values = {
        "id": bundle_id,
        "title": escaped(title),
        "date": date,
        "abha": escaped(abha_identifier_value(patient_abha)) if patient_abha else "",
        "name": escaped(patient_name),
        "custodian": custodian,
        "facility": facility,
        "system": system,
    }
    text = bundle_template.format(**values)
    return text, summary_template.format(**values), hashlib.sha256(text.encode()).hexdigest()


# --- A record's document, as stored or built --------------------------------------------------------------------


def _index_texts(record) -> tuple[str, str]:
    """(bundle JSON text, summary JSON text) of a record stored without them. Uses the record's patient and facility
    when the query selected them, else its care context's (the same ones: a record repeats its care context's)."""
    model = type(record)
    patient = record.patient if model.patient.is_cached(record) else record.care_context.patient
    facility = record.facility if model.facility.is_cached(record) else record.care_context.facility
    text, summary, _sha = index_document(
        bundle_id=str(record.uuid),
        hi_type=record.hi_type,
        title=record.title,
        date=record.record_date.isoformat(),
        patient_abha=abha_number_display(patient.abha_number) if patient else "",
        patient_name=patient.full_name if patient else record.care_context.patient_name,
        custodian=escaped(f"{facility.name} ({facility.facility_id})"),
        facility_id=facility.facility_id,
    )
    return text, summary


def record_bundle(record) -> dict:
    """The record's FHIR bundle: as stored, or its index document."""
    if record.bundle is not None:
        return record.bundle
    return json.loads(_index_texts(record)[0])


def record_bundle_text(record, stored_text: str | None) -> str:
    """The bundle's JSON text, for a read that passes stored text through (`stored_text`, NULL for an index
    document)."""
    return stored_text if stored_text is not None else _index_texts(record)[0]


def record_summary(record) -> dict:
    """The record's readable summary (fhir.summarize): as stored, or its index document's."""
    if record.summary is not None:
        return record.summary
    return json.loads(_index_texts(record)[1])
