"""One batch row: checked and turned into what linking needs, or into (field, reason) errors.

Reasons are stored as codes and worded in the reader's language when shown (REASONS).
"""

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from abha.identifiers import IdentifierError, abha_number_clean, address_local_part

from ..enums import HiType
from ..fhir import (
    ABHA_ADDRESS,
    ABHA_NUMBER,
    BundleError,
    PatientIdentifier,
    composition_hi_type,
    patient_identifiers,
    patient_identity_errors,
    validate_bundle,
)
from .files import has_bad_bytes

REASONS = {
    "not_utf8": _("This row is not UTF-8 text. Save the file as “CSV UTF-8”."),
    "column_count": _("This row has a different number of values than the header has columns."),
    "not_json": _("This line is not valid JSON."),
    "patient_missing": _("Give the ABHA number, the ABHA address, or the mobile, name, gender and year of birth."),
    "abha_number_invalid": _("An ABHA number has 14 digits."),  # shape only: ABDM publishes no check digit
    "abha_address_invalid": _("This is not a valid ABHA address."),
    "abha_unknown": _("No ABHA has this number or address."),
    "abha_inactive": _("This ABHA is deactivated or deleted."),
    "mobile_invalid": _("The mobile number must have 10 digits and start with 6, 7, 8 or 9."),
    "name_missing": _("Give the patient's name (needed to match on mobile)."),
    "gender_invalid": _("Gender must be M, F, O or U."),
    "year_invalid": _("The year of birth must be a year between 1900 and this year."),
    "no_match": _("No ABHA matches this mobile, name, gender and year of birth."),
    "reference_missing": _("The care context reference is missing."),
    "reference_too_long": _("The care context reference is longer than 64 characters."),
    "display_too_long": _("The care context display is longer than 200 characters."),
    "date_missing": _("The visit date is missing."),
    "date_invalid": _("The visit date must be a date like 2025-10-03 (or 03-10-2025)."),
    "date_future": _("The visit date is in the future."),
    "hi_type_invalid": _("Unknown hiType. Use one of: %(choices)s."),
    "record_id_too_long": _("The record id is longer than 128 characters."),
    "bundle_not_json": _("The FHIR bundle is not valid JSON."),
    "bundle_invalid": _("The FHIR bundle is not valid."),
    "bundle_and_pdf": _("Give either a FHIR bundle or a PDF, not both."),
    "pdf_not_in_zip": _("A PDF path needs a ZIP upload holding that file."),
    "pdf_missing": _("The ZIP has no file at this path."),
    "pdf_not_pdf": _("This file is not a PDF."),
    "pdf_too_large": _("The PDF is larger than 10 MB."),
    "bundle_no_patient": _("The bundle names no patient ABHA number or address."),
    "bundle_no_reference": _("The bundle has no care context reference (an Encounter identifier or id)."),
    "bundle_other_patient": _("The bundle's patient has an ABHA number or address of another person than this row's."),
    "other_patient": _("This care context reference already belongs to another patient at this facility."),
    "internal": _("This row could not be processed because of an error on the portal; it was reported."),
}
HI_TYPES_BY_LOWER = {value.lower(): value for value in HiType.values}
MOBILE = re.compile(r"^[6-9][0-9]{9}$")


def reason_text(code: str, detail: str = "") -> str:
    text = str(REASONS.get(code, code))
    if code == "hi_type_invalid":
        text = text % {"choices": ", ".join(HiType.values)}
    return f"{text} {detail}".strip()


@dataclass
class LinkRow:
    number: int
    abha_number: str = ""
    abha_local: str = ""  # ABHA address without our suffix, lower case
    mobile: str = ""
    name: str = ""
    gender: str = ""
    year_of_birth: int | None = None
    reference: str = ""
    display: str = ""
    visit_date: dt.date | None = None
    hi_type: str = ""
    record_id: str = ""
    bundle: dict | None = None
    bundle_facts: object = None
    bundle_column: str = ""
    bundle_identifiers: list[PatientIdentifier] = field(default_factory=list)  # ABHA ids on its Patient
    pdf_path: str = ""
    # Set by matching: the ABHA account (certain), or the accounts a person must choose from (needs review).
    patient_id: int | None = None
    patient_abha: str = ""
    patient_name: str = ""
    candidates: list[int] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (field, code, detail)

    def error(self, column: str, code: str, detail: str = "") -> None:
        self.errors.append((column, code, detail[:500]))


def parse_date(value: str) -> dt.date | None:
    if len(value) == 10 and value[4] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def _identity(row: LinkRow, values: dict, today: dt.date) -> None:
    number = (values.get("abha_number") or "").strip()
    address = (values.get("abha_address") or "").strip()
    if number:
        try:
            row.abha_number = abha_number_clean(number)
        except IdentifierError:
            row.error("abha_number", "abha_number_invalid")
        return
    if address:
        local = address_local_part(address)
        if not local or "@" in local or len(local) > 18:
            row.error("abha_address", "abha_address_invalid")
        row.abha_local = local
        return
    mobile = (values.get("mobile") or "").strip()
    name = " ".join((values.get("name") or "").split())
    gender = (values.get("gender") or "").strip().upper()[:1]
    year = (values.get("year_of_birth") or "").strip()
    if not (mobile or name or gender or year):
        row.error("abha_number", "patient_missing")
        return
    if not MOBILE.match(mobile):
        row.error("mobile", "mobile_invalid")
    if not name:
        row.error("name", "name_missing")
    if gender not in ("M", "F", "O", "U"):
        row.error("gender", "gender_invalid")
    if not (year.isdecimal() and 1900 <= int(year) <= today.year):
        row.error("year_of_birth", "year_invalid")
    row.mobile, row.name, row.gender = mobile, name[:200], gender
    row.year_of_birth = int(year) if year.isdecimal() else None


def _visit(row: LinkRow, values: dict, today: dt.date) -> None:
    row.reference = (values.get("care_context_reference") or "").strip()
    if not row.reference:
        row.error("care_context_reference", "reference_missing")
    elif len(row.reference) > 64:
        row.error("care_context_reference", "reference_too_long")
    raw_date = (values.get("visit_date") or "").strip()
    row.visit_date = parse_date(raw_date) if raw_date else None
    if not raw_date:
        row.error("visit_date", "date_missing")
    elif row.visit_date is None or row.visit_date.year < 1900:
        row.error("visit_date", "date_invalid")
        row.visit_date = None
    elif row.visit_date > today:
        row.error("visit_date", "date_future")
    hi_type = HI_TYPES_BY_LOWER.get((values.get("hi_type") or "").strip().lower())
    if hi_type is None:
        row.error("hi_type", "hi_type_invalid")
    row.hi_type = hi_type or ""
    display = " ".join((values.get("care_context_display") or "").split())
    if len(display) > 200:
        row.error("care_context_display", "display_too_long")
    if not display and row.visit_date and hi_type:
        display = f"{HiType(hi_type).label} {row.visit_date:%d-%m-%Y}"
    row.display = str(display)[:200]


def _attachments(row: LinkRow, values: dict, in_zip: bool) -> None:
    record_id = (values.get("record_id") or "").strip()
    if len(record_id) > 128:
        row.error("record_id", "record_id_too_long")
    row.record_id = record_id[:128]
    text = (values.get("fhir_bundle") or "").strip()
    row.pdf_path = (values.get("pdf_path") or "").strip()
    if text and row.pdf_path:
        row.error("fhir_bundle", "bundle_and_pdf")
        return
    if row.pdf_path and not in_zip:
        row.error("pdf_path", "pdf_not_in_zip")
    if text:
        try:
            bundle = json.loads(text)
        except ValueError:
            row.error("fhir_bundle", "bundle_not_json")
            return
        _check_bundle(row, bundle, "fhir_bundle")


def _check_bundle(row: LinkRow, bundle, column: str) -> None:
    if not row.hi_type:
        return  # already an error; the bundle is checked against a known hiType only
    try:
        row.bundle_facts = validate_bundle(bundle, row.hi_type)
    except BundleError as error:
        row.error(column, "bundle_invalid", "; ".join(error.errors[:3]))
        return
    row.bundle, row.bundle_column, row.bundle_identifiers = bundle, column, patient_identifiers(bundle)


def bundle_address_locals(batch: list[LinkRow]) -> set[str]:
    """The ABHA addresses (local parts) the rows' bundles name: looked up with the rows' own addresses."""
    return {
        address_local_part(identifier.value)
        for row in batch
        if not row.errors
        for identifier in row.bundle_identifiers
        if identifier.kind == ABHA_ADDRESS
    }


def check_bundle_patient(row: LinkRow, by_local: dict) -> None:
    """After matching: refuse a row whose bundle's Patient names another ABHA than the account it matched.

    `by_local` maps ABHA address local parts (those of bundle_address_locals among them) to account rows
    whose first value is the account id. A bundle naming no ABHA passes (README, records and privacy)."""
    if row.errors or row.bundle is None or row.patient_id is None or not row.bundle_identifiers:
        return
    own_locals = {
        local
        for identifier in row.bundle_identifiers
        if identifier.kind == ABHA_ADDRESS
        and (account := by_local.get(local := address_local_part(identifier.value)))
        and account[0] == row.patient_id
    }
    errors = patient_identity_errors(row.bundle_identifiers, abha_number=row.patient_abha, address_locals=own_locals)
    if errors:
        row.error(row.bundle_column, "bundle_other_patient", "; ".join(errors[:3]))


def csv_row(
    number: int, header: list[str], fields: list[str], *, today: dt.date, in_zip: bool, check_bytes: bool = True
) -> LinkRow:
    row = LinkRow(number=number)
    if check_bytes and any(has_bad_bytes(value) for value in fields):
        row.error("row", "not_utf8")
        return row
    if len(fields) != len(header):
        row.error("row", "column_count")
        return row
    values = dict(zip(header, fields, strict=True))
    _identity(row, values, today)
    _visit(row, values, today)
    _attachments(row, values, in_zip)
    return row


# --- NDJSON: everything comes from the bundle ---------------------------------------------------------


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [
        entry.get("resource") or {}
        for entry in bundle.get("entry") or []
        if (entry.get("resource") or {}).get("resourceType") == kind
    ]


def _patient_identity(bundle: dict) -> tuple[str, str]:
    """(ABHA number, ABHA address): the first of each on the bundle's Patient resources (fhir.patient_identifiers).
    The row is matched on them; check_bundle_patient then refuses it when any other one is someone else's."""
    identifiers = patient_identifiers(bundle)
    number = next((i.value for i in identifiers if i.kind == ABHA_NUMBER), "")
    address = next((i.value for i in identifiers if i.kind == ABHA_ADDRESS), "")
    return number, address


def ndjson_row(number: int, line: str, *, today: dt.date, check_bytes: bool = True) -> LinkRow:
    row = LinkRow(number=number)
    if check_bytes and has_bad_bytes(line):
        row.error("row", "not_utf8")
        return row
    try:
        bundle = json.loads(line)
    except ValueError:
        row.error("row", "not_json")
        return row
    if not isinstance(bundle, dict):
        row.error("row", "not_json")
        return row
    entries = bundle.get("entry") or []
    composition = (entries[0].get("resource") or {}) if entries and isinstance(entries[0], dict) else {}
    hi_type = composition_hi_type(composition) if isinstance(composition, dict) else ""
    encounter = next(iter(_resources(bundle, "Encounter")), {})
    reference = next(
        (str(i.get("value")) for i in encounter.get("identifier") or [] if isinstance(i, dict) and i.get("value")),
        str(encounter.get("id") or ""),
    )
    number_value, address_value = _patient_identity(bundle)
    values = {
        "abha_number": number_value,
        "abha_address": address_value,
        "care_context_reference": reference,
        "care_context_display": str(composition.get("title") or ""),
        "visit_date": str(composition.get("date") or "")[:10],
        "hi_type": hi_type,
    }
    if not (number_value or address_value):
        row.error("patient", "bundle_no_patient")
    else:
        _identity(row, values, today)
    _visit(row, values, today)
    if not reference:
        row.errors = [e for e in row.errors if e[0] != "care_context_reference"]
        row.error("care_context_reference", "bundle_no_reference")
    if not row.errors:
        _check_bundle(row, bundle, "bundle")
    return row
