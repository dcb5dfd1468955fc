"""FHIR R4 document bundles: validation on the way in, a readable summary on the way out.

Validation is three layers: every entry names a known resource type, the `fhir.resources` R4B models
(structure and datatypes of every resource), then the portal's rules (a `document` bundle with an identifier,
unique fullUrls, Composition first with a valid status, its type matching the hiType, its subject a Patient,
every reference resolving inside the bundle, and, when the caller names the patient, the Patient's ABHA
identifiers being that patient's). Rendering works on the stored JSON, without queries.
"""

import base64
import copy
import datetime
import functools
import hashlib
import json
import re
import uuid as uuid_lib
from dataclasses import dataclass

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from abha.identifiers import abha_number_display, address_local_part

from .enums import (
    COMPOSITION_CODES,
    COMPOSITION_DISPLAYS,
    COMPOSITION_PROFILES,
    COMPOSITION_TEXTS,
    NRCES_PROFILE_BASE,
)

MAX_ERRORS = 20
COMPOSITION_STATUSES = ("preliminary", "final", "amended", "entered-in-error")
ABHA_NUMBER_SYSTEM = "https://healthid.ndhm.gov.in"
FACILITY_SYSTEM = "https://facility.ndhm.gov.in"
IDENTIFIER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
NDHM_IDENTIFIER_TYPE_SYSTEM = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-identifier-type-code"
ABHA_ADDRESS_SYSTEM = "https://healthid.abdm.gov.in"
# Where ABDM bundles put the ABHA number or address of their Patient (ABDM's samples: type MR, system healthid).
ABHA_SYSTEMS = ("healthid.ndhm.gov.in", "healthid.abdm.gov.in", "abha")
ABHA_ADDRESS_CODES = {"PHR", "ABHA_ADDRESS", "ABHAADDRESS"}
ABHA_NUMBER_CODES = {"ABHA", "NDHM"}
ABHA_NUMBER_SHAPE = re.compile(r"^[0-9]{2}-?[0-9]{4}-?[0-9]{4}-?[0-9]{4}$")
ABHA_NUMBER = "number"
ABHA_ADDRESS = "address"


class BundleError(ValueError):
    """The bundle is not acceptable; `errors` lists each reason ("entry.3.resource.status: ...")."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class BundleFacts:
    """What the portal keeps beside the bundle: its identity, title and date."""

    record_key: str
    title: str
    date: str
    sha256: str


@dataclass(frozen=True)
class PatientIdentifier:
    """An ABHA number or address written on a Patient of a bundle, and where ("entry.1.resource.identifier.0")."""

    location: str
    kind: str  # ABHA_NUMBER or ABHA_ADDRESS
    value: str


def _location(loc) -> str:
    return ".".join(str(part) for part in loc)


def bundle_sha256(bundle: dict) -> str:
    return hashlib.sha256(json.dumps(bundle, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _is_resource_type(name) -> bool:
    try:
        return isinstance(name, str) and issubclass(get_fhir_model_class(name), Resource)
    except (ValueError, KeyError):
        return False


def _resource_type_errors(bundle: dict) -> list[str]:
    """Entries whose resourceType is missing or unknown (fhir.resources fails on those with a KeyError)."""
    entries = bundle.get("entry")
    if entries is None:
        return []
    if not isinstance(entries, list):
        return [_("entry: must be a list of entries.")]
    errors = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            errors.append(_("entry.%(index)s.resource: each entry must hold a resource.") % {"index": index})
        elif not _is_resource_type(resource.get("resourceType")):
            errors.append(
                _("entry.%(index)s.resource.resourceType: %(name)s is not a FHIR R4 resource type.")
                % {"index": index, "name": json.dumps(resource.get("resourceType"))[:60]}
            )
    return errors[:MAX_ERRORS]


def _references(node, path: list):
    """(path, reference) of every Reference.reference under `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield path, value
            elif key != "contained":  # a contained resource's references are checked against its container
                yield from _references(value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _references(value, [*path, index])


def _reference_index(entries: list) -> dict[str, dict]:
    """Each resource by its fullUrl and by `Type/id`: what a reference inside the bundle may name."""
    index = {}
    for entry in entries:
        resource = entry.get("resource") or {}
        if entry.get("fullUrl"):
            index.setdefault(entry["fullUrl"], resource)
        if resource.get("resourceType") and resource.get("id"):
            index.setdefault(f"{resource['resourceType']}/{resource['id']}", resource)
    return index


def _resolve(reference: str, index: dict[str, dict], container: dict) -> dict | None:
    if reference.startswith("#"):
        if reference == "#":
            return container
        contained = {r.get("id"): r for r in container.get("contained") or [] if isinstance(r, dict)}
        return contained.get(reference[1:])
    return index.get(re.sub(r"/_history/[^/]+$", "", reference))


def _reference_errors(entries: list, index: dict[str, dict]) -> list[str]:
    errors = []
    for number, entry in enumerate(entries):
        resource = entry.get("resource") or {}
        for nested in [resource, *(r for r in resource.get("contained") or [] if isinstance(r, dict))]:
            for path, reference in _references(nested, []):
                if _resolve(reference, index, resource) is None:
                    errors.append(
                        _("entry.%(index)s.resource.%(path)s: the reference %(reference)s names nothing in the bundle.")
                        % {"index": number, "path": _location(path), "reference": json.dumps(reference)[:120]}
                    )
    return errors


def _duplicate_full_url_errors(entries: list) -> list[str]:
    """FHIR bdl-7: a fullUrl appears once (or with different meta.versionId)."""
    seen, errors = set(), []
    for index, entry in enumerate(entries):
        full_url = entry.get("fullUrl")
        if not full_url:
            continue
        key = (full_url, ((entry.get("resource") or {}).get("meta") or {}).get("versionId"))
        if key in seen:
            errors.append(
                _("entry.%(index)s.fullUrl: %(url)s appears twice in the bundle (FHIR bdl-7).")
                % {"index": index, "url": json.dumps(full_url)[:120]}
            )
        seen.add(key)
    return errors


def _type_text(concept: dict) -> str:
    return " ".join(str(concept.get("text") or "").split()).casefold()


def composition_hi_type(composition: dict) -> str:
    """The hiType a Composition's type names: by its code, or by its text for the text-only kinds; else ""."""
    concept = composition.get("type") if isinstance(composition.get("type"), dict) else {}
    codes = _codes(concept)
    for hi_type, code in COMPOSITION_CODES.items():
        if code in codes:
            return str(hi_type)
    text = _type_text(concept)
    for hi_type, expected in COMPOSITION_TEXTS.items():
        if text == expected.casefold():
            return str(hi_type)
    return ""


def _composition_type_error(composition: dict, hi_type: str) -> str | None:
    if hi_type not in COMPOSITION_CODES and hi_type not in COMPOSITION_TEXTS:
        return _("hi_type: unknown health information type.")
    concept = composition.get("type") or {}
    codes = _codes(concept)
    expected_code, expected_text = COMPOSITION_CODES.get(hi_type), COMPOSITION_TEXTS.get(hi_type)
    if expected_code and expected_code in codes:
        return None
    other_kinds = codes & (set(COMPOSITION_CODES.values()) - {expected_code})
    if expected_text and _type_text(concept) == expected_text.casefold() and not other_kinds:
        return None  # NRCES names Wellness and Invoice records by type.text alone
    if expected_text and not expected_code:
        return _('entry.0.resource.type: the Composition type text must be "%(text)s" for %(hi_type)s.') % {
            "text": expected_text,
            "hi_type": hi_type,
        }
    if expected_text:
        return _(
            'entry.0.resource.type: the Composition type code must be %(code)s (or the text "%(text)s") '
            "for %(hi_type)s."
        ) % {"code": expected_code, "text": expected_text, "hi_type": hi_type}
    return _("entry.0.resource.type: the Composition type code must be %(code)s for %(hi_type)s.") % {
        "code": expected_code,
        "hi_type": hi_type,
    }


def _composition_errors(composition: dict, hi_type: str, index: dict[str, dict]) -> list[str]:
    errors = []
    if composition.get("status") not in COMPOSITION_STATUSES:
        errors.append(
            _("entry.0.resource.status: the Composition status must be one of %(allowed)s.")
            % {"allowed": ", ".join(COMPOSITION_STATUSES)}
        )
    type_error = _composition_type_error(composition, hi_type)
    if type_error:
        errors.append(type_error)
    subject = (composition.get("subject") or {}).get("reference") or ""
    if not subject:
        errors.append(_("entry.0.resource.subject: the Composition must reference the patient."))
    else:
        target = _resolve(subject, index, composition)
        if target is not None and target.get("resourceType") != "Patient":
            errors.append(
                _("entry.0.resource.subject: the Composition's subject must be a Patient, not a %(kind)s.")
                % {"kind": target.get("resourceType")}
            )
    return errors


def _list(value) -> list:
    """`value` when it is a list, else empty: the helpers below also read JSON not validated yet (NDJSON rows)."""
    return value if isinstance(value, list) else []


def _codes(concept) -> set[str]:
    coding = _list(concept.get("coding")) if isinstance(concept, dict) else []
    return {str(c.get("code") or "") for c in coding if isinstance(c, dict)}


def _abha_kind(identifier: dict) -> str | None:
    """Whether a Patient identifier is an ABHA number, an ABHA address, or something else (None)."""
    value = str(identifier.get("value") or "").strip()
    system = str(identifier.get("system") or "").lower()
    codes = {code.upper() for code in _codes(identifier.get("type"))}
    abha_system = any(part in system for part in ABHA_SYSTEMS)
    if not value:
        return None
    if "@" in value:
        suffixes = ("@abdm", "@sbx", "@" + settings.ABHA_ADDRESS_SUFFIX.lower())
        if abha_system or codes & ABHA_ADDRESS_CODES or not system or value.lower().endswith(suffixes):
            return ABHA_ADDRESS
        return None  # e.g. an e-mail address some hospital system keeps as an identifier
    if abha_system or codes & ABHA_NUMBER_CODES:
        return ABHA_NUMBER
    if ("MR" in codes or not system) and ABHA_NUMBER_SHAPE.match(value):
        return ABHA_NUMBER  # a medical record number that is an ABHA number (ABDM's samples)
    return None


def patient_identifiers(bundle: dict) -> list[PatientIdentifier]:
    """The ABHA numbers and addresses written on the bundle's Patient resources, in bundle order."""
    found = []
    for number, entry in enumerate(_list(bundle.get("entry"))):
        resource = (entry.get("resource") if isinstance(entry, dict) else None) or {}
        if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
            continue
        for position, identifier in enumerate(_list(resource.get("identifier"))):
            kind = _abha_kind(identifier) if isinstance(identifier, dict) else None
            if kind:
                location = f"entry.{number}.resource.identifier.{position}"
                found.append(PatientIdentifier(location, kind, str(identifier["value"]).strip()))
    return found


def patient_identity_errors(
    identifiers: list[PatientIdentifier], *, abha_number: str, address_locals: set[str]
) -> list[str]:
    """One error per ABHA identifier that is not the patient's (`abha_number`: 14 digits; `address_locals`:
    the local parts of the patient's ABHA addresses, lower case). No identifier, no error: see README."""
    errors = []
    for identifier in identifiers:
        if identifier.kind == ABHA_NUMBER:
            if re.sub(r"[\s-]", "", identifier.value) != abha_number:
                errors.append(
                    _("%(location)s: this ABHA number is not the one of the patient the record is filed under.")
                    % {"location": identifier.location}
                )
        else:
            local = address_local_part(identifier.value)
            if local != abha_number and local not in address_locals:
                errors.append(
                    _("%(location)s: this ABHA address is not one of the patient the record is filed under.")
                    % {"location": identifier.location}
                )
    return errors


def bundle_patient_errors(bundle: dict, patient) -> list[str]:
    """Why `bundle` may not be filed under `patient` (an ABHA account): its Patient names another ABHA number or
    address. Empty when they match or the Patient names none. One query (the account's addresses), only when
    the bundle names an address. For every place a bundle meets an ABHA (validate_bundle(patient=...) uses it)."""
    identifiers = patient_identifiers(bundle)
    address_locals = set()
    if any(identifier.kind == ABHA_ADDRESS for identifier in identifiers):
        address_locals = {address.local.lower() for address in patient.addresses.all()}  # one query, only then
    return patient_identity_errors(identifiers, abha_number=patient.abha_number, address_locals=address_locals)


def validate_bundle(bundle, hi_type: str, *, patient=None) -> BundleFacts:
    """Raise BundleError unless `bundle` (parsed JSON) is a valid document bundle of `hi_type`.

    With `patient` (an ABHA account), the ABHA numbers and addresses on the bundle's Patient resources must be
    that account's (one query for its addresses when the bundle names an address); a bundle naming none passes.
    """
    if not isinstance(bundle, dict):
        raise BundleError([_("The bundle must be a JSON object.")])
    if bundle.get("resourceType") != "Bundle":
        raise BundleError([_("resourceType must be Bundle.")])
    errors = _resource_type_errors(bundle)
    if errors:
        raise BundleError(errors)
    try:
        Bundle.model_validate(bundle)
    except ValidationError as error:
        errors = [f"{_location(item['loc'])}: {item['msg']}" for item in error.errors()[:MAX_ERRORS]]
        raise BundleError(errors or [_("The bundle is not valid FHIR R4.")]) from None
    except KeyError:  # an unknown resourceType deeper down (a contained resource): fhir.resources' own KeyError
        raise BundleError([_("The bundle holds a resource of an unknown resourceType.")]) from None
    except (TypeError, ValueError) as error:
        raise BundleError([str(error)[:300]]) from None

    errors = []
    if bundle.get("type") != "document":
        errors.append(_("type: a health record must be a FHIR document bundle (type document)."))
    identifier = bundle.get("identifier") or {}
    if not (identifier.get("system") and identifier.get("value")):
        errors.append(_("identifier: a document bundle must have an identifier with a system and a value (bdl-9)."))
    entries = bundle.get("entry") or []
    errors += _duplicate_full_url_errors(entries)
    index = _reference_index(entries)
    composition = (entries[0].get("resource") or {}) if entries else {}
    if composition.get("resourceType") != "Composition":
        errors.append(_("entry.0: the first entry of a document bundle must be its Composition."))
    else:
        errors += _composition_errors(composition, hi_type, index)
    errors += _reference_errors(entries, index)
    if patient is not None and not errors:
        errors += bundle_patient_errors(bundle, patient)
    if errors:
        raise BundleError(errors[:MAX_ERRORS])
    sha = bundle_sha256(bundle)
    return BundleFacts(
        record_key=str(identifier.get("value") or bundle.get("id") or "")[:128] or sha[:32],
        title=str(composition.get("title") or "")[:200],
        date=str(composition.get("date") or ""),
        sha256=sha,
    )


# --- Documents the portal writes ---------------------------------------------------------------


def facility_system(facility_id: str) -> str:
    """The identifier system of the documents the portal writes for a facility (Bundle.identifier.system)."""
    base = f"{settings.PORTAL_BASE_URL.rstrip('/')}/fhir"
    return f"{base}/facilities/{facility_id}/documents" if facility_id else f"{base}/documents"


def abha_identifier_value(value: str) -> str:
    """An ABHA number as the portal writes it in bundles: hyphenated (91-1234-5678-9012), whatever it was given as."""
    digits = re.sub(r"[\s-]", "", value)
    return abha_number_display(digits) if digits.isdecimal() and len(digits) == 14 else value


def _profile(name: str) -> dict:
    return {"profile": [NRCES_PROFILE_BASE + name]}


def _composition_type(hi_type: str) -> dict:
    """NRCES's Composition.type: the SNOMED code where there is one, the fixed text for Wellness and Invoice."""
    if hi_type in COMPOSITION_TEXTS:
        return {"text": COMPOSITION_TEXTS[hi_type]}
    display = COMPOSITION_DISPLAYS[hi_type]
    return {
        "coding": [{"system": "http://snomed.info/sct", "code": COMPOSITION_CODES[hi_type], "display": display}],
        "text": display,
    }


def _abha_address_identifier(address: str) -> dict:
    return {
        "type": {"coding": [{"system": NDHM_IDENTIFIER_TYPE_SYSTEM, "code": "ABHAAddress", "display": "ABHA Address"}]},
        "system": ABHA_ADDRESS_SYSTEM,
        "value": address,
    }


def patient_resource(*, patient_abha: str, patient_name: str, patient_address: str = "") -> dict:
    """An NRCES Patient: the ABHA number typed as ABDM's samples do (MR, healthid system), hyphenated, and the
    ABHA address when given (typed ABHAAddress, NRCES's identifier type code system)."""
    patient = {"resourceType": "Patient", "id": "1", "meta": _profile("Patient")}  # FHIR JSON has no empty lists
    identifiers = []
    if patient_abha:
        identifiers.append(
            {
                "type": {
                    "coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": "MR", "display": "Medical record number"}]
                },
                "system": ABHA_NUMBER_SYSTEM,
                "value": abha_identifier_value(patient_abha),
            }
        )
    if patient_address:
        identifiers.append(_abha_address_identifier(patient_address))
    if identifiers:
        patient["identifier"] = identifiers
    if patient_name:
        patient["name"] = [{"text": patient_name}]
    return patient


def bundle_with_patient(bundle: dict, *, patient_abha: str) -> dict:
    """A copy of `bundle` whose Patient resources name `patient_abha` (typed, hyphenated) instead of the ABHA
    numbers and addresses they carried ("" drops them): ABDM's sample bundles filed for demo and test people."""
    bundle = copy.deepcopy(bundle)
    for entry in _list(bundle.get("entry")):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
            continue
        identifiers = [i for i in _list(resource.get("identifier")) if not _abha_kind(i)]
        if patient_abha:
            identifiers.insert(0, patient_resource(patient_abha=patient_abha, patient_name="")["identifier"][0])
        if identifiers:
            resource["identifier"] = identifiers
        else:
            resource.pop("identifier", None)
    return bundle


def organization_resource(*, facility_id: str, facility_name: str) -> dict:
    """An NRCES Organization for a facility, identified by its HFR facility ID."""
    organization = {"resourceType": "Organization", "id": "1", "meta": _profile("Organization")}
    if facility_id:
        organization["identifier"] = [
            {
                "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": "PRN", "display": "Provider number"}]},
                "system": FACILITY_SYSTEM,
                "value": facility_id,
            }
        ]
    organization["name"] = facility_name
    return organization


def _document(*, bundle_id: str, system: str, hi_type: str, title: str, timestamp: str, patient, organization, more):
    """An NRCES document bundle: Composition (by the facility, kept by it), Patient, `more`, Organization."""
    composition = {
        "resourceType": "Composition",
        "id": "1",
        "meta": {"profile": [COMPOSITION_PROFILES[hi_type]]},
        "status": "final",
        "type": _composition_type(hi_type),
        "subject": {"reference": "Patient/1"},
        "date": timestamp,
        "author": [{"reference": "Organization/1"}],
        "title": title,
        "custodian": {"reference": "Organization/1"},
    }
    if more:
        composition["section"] = [
            {"title": title, "entry": [{"reference": f"{r['resourceType']}/{r['id']}"} for r in more]}
        ]
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": timestamp, **_profile("DocumentBundle")},
        "identifier": {"system": system, "value": bundle_id},
        "type": "document",
        "timestamp": timestamp,
        "entry": [
            {"fullUrl": f"{resource['resourceType']}/{resource['id']}", "resource": resource}
            for resource in (composition, patient, *more, organization)
        ],
    }


def document_bundle(
    *,
    hi_type: str,
    title: str,
    date: str,
    content_type: str,
    data: bytes,
    patient_abha: str,
    patient_name: str,
    facility_id: str,
    facility_name: str,
) -> dict:
    """An NRCES document bundle around an uploaded PDF or image (staff's "upload a file", a ZIP's PDFs):
    written by the facility, its identifier in the facility's system (facility_system)."""
    bundle_id = str(uuid_lib.uuid4())
    document = {
        "resourceType": "DocumentReference",
        "id": "1",
        "meta": _profile("DocumentReference"),
        "status": "current",
        "type": {"text": title},
        "subject": {"reference": "Patient/1"},
        "content": [
            {"attachment": {"contentType": content_type, "title": title, "data": base64.b64encode(data).decode()}}
        ],
    }
    return _document(
        bundle_id=bundle_id,
        system=facility_system(facility_id),
        hi_type=hi_type,
        title=title,
        timestamp=f"{date}T00:00:00+05:30",
        patient=patient_resource(patient_abha=patient_abha, patient_name=patient_name),
        organization=organization_resource(facility_id=facility_id, facility_name=facility_name),
        more=[document],
    )


# --- Readable rendering ------------------------------------------------------------------

KIND_LABELS = {
    "Condition": gettext_lazy("Condition"),
    "AllergyIntolerance": gettext_lazy("Allergy"),
    "MedicationRequest": gettext_lazy("Medicine prescribed"),
    "MedicationStatement": gettext_lazy("Medicine being taken"),
    "Observation": gettext_lazy("Observation"),
    "DiagnosticReport": gettext_lazy("Report"),
    "Procedure": gettext_lazy("Procedure"),
    "Immunization": gettext_lazy("Vaccination"),
    "ImmunizationRecommendation": gettext_lazy("Vaccination due"),
    "ServiceRequest": gettext_lazy("Test advised"),
    "Appointment": gettext_lazy("Follow-up"),
    "CarePlan": gettext_lazy("Care plan"),
    "Encounter": gettext_lazy("Visit"),
    "DocumentReference": gettext_lazy("Document"),
    "Binary": gettext_lazy("Attachment"),
    "Media": gettext_lazy("Image"),
    "ImagingStudy": gettext_lazy("Imaging study"),
    "Specimen": gettext_lazy("Specimen"),
}


# An attachment's MIME type as the citizen reads it ("PDF document", never "application/pdf").
CONTENT_TYPE_LABELS = {
    "application/pdf": gettext_lazy("PDF document"),
    "image": gettext_lazy("Picture"),
    "text": gettext_lazy("Text"),
}
FILE_LABEL = gettext_lazy("File")
ATTACHMENT_KINDS = ("DocumentReference", "Binary", "Media")


def content_type_label(content_type: str) -> str:
    content_type = (content_type or "").split(";")[0].strip().lower()
    if not content_type:
        return ""
    label = CONTENT_TYPE_LABELS.get(content_type) or CONTENT_TYPE_LABELS.get(content_type.split("/")[0])
    return str(label or FILE_LABEL)


def _concept(value) -> str:
    if not isinstance(value, dict):
        return ""
    if value.get("text"):
        return str(value["text"])
    for coding in value.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
    for coding in value.get("coding") or []:
        if coding.get("code"):
            return str(coding["code"])
    return ""


def _first_concept(values) -> str:
    for value in values or []:
        text = _concept(value)
        if text:
            return text
    return ""


def _quantity(value) -> str:
    if not isinstance(value, dict) or value.get("value") is None:
        return ""
    return f"{value['value']} {value.get('unit') or value.get('code') or ''}".strip()


def _observation_value(resource) -> str:
    for key in ("valueQuantity",):
        if key in resource:
            return _quantity(resource[key])
    if "valueCodeableConcept" in resource:
        return _concept(resource["valueCodeableConcept"])
    for key in ("valueString", "valueDateTime", "valueInteger", "valueBoolean"):
        if key in resource:
            return str(resource[key])
    if "valuePeriod" in resource:
        period = resource["valuePeriod"]
        return f"{period.get('start', '')} – {period.get('end', '')}"
    parts = []
    for component in resource.get("component") or []:
        value = _quantity(component.get("valueQuantity")) or _concept(component.get("valueCodeableConcept"))
        parts.append(f"{_concept(component.get('code'))}: {value}")
    return "; ".join(parts)


def _name(resource) -> str:
    names = resource.get("name")
    if isinstance(names, str):
        return names
    for name in names or []:
        if name.get("text"):
            return name["text"]
        return " ".join([*name.get("prefix", []), *name.get("given", []), name.get("family", "")]).strip()
    return ""


def _dosage(resource) -> str:
    return "; ".join(d.get("text", "") for d in resource.get("dosageInstruction") or [] if d.get("text"))


def _attachment(resource) -> dict | None:
    contents = resource.get("content") or []
    for content in contents if isinstance(contents, list) else []:  # Media.content is one Attachment, not a list
        attachment = content.get("attachment") or {}
        return {"content_type": attachment.get("contentType", ""), "title": attachment.get("title", "")}
    if resource.get("resourceType") in ("Binary", "Media"):
        return {"content_type": resource.get("contentType") or (resource.get("content") or {}).get("contentType", "")}
    return None


def _describe(resource: dict) -> dict:
    """(label, text, detail) of one resource, chosen per resource type."""
    kind = resource.get("resourceType", "")
    label, text, detail = kind, "", ""
    if kind == "Condition":
        text = _concept(resource.get("code"))
        detail = _concept(resource.get("clinicalStatus"))
    elif kind == "AllergyIntolerance":
        text = _concept(resource.get("code"))
        detail = "; ".join(n.get("text", "") for n in resource.get("note") or [])
    elif kind in ("MedicationRequest", "MedicationStatement"):
        text = _concept(resource.get("medicationCodeableConcept")) or (resource.get("medicationReference") or {}).get(
            "display", ""
        )
        detail = _dosage(resource) or "; ".join(d.get("text", "") for d in resource.get("dosage") or [])
    elif kind == "Observation":
        text = _concept(resource.get("code"))
        detail = _observation_value(resource)
    elif kind == "DiagnosticReport":
        text = _concept(resource.get("code"))
        detail = resource.get("conclusion") or _first_concept(resource.get("conclusionCode"))
    elif kind == "Procedure":
        text = _concept(resource.get("code"))
        detail = resource.get("performedDateTime", "")
    elif kind == "Immunization":
        text = _concept(resource.get("vaccineCode"))
        detail = resource.get("occurrenceDateTime", "") or resource.get("lotNumber", "")
    elif kind == "ImmunizationRecommendation":
        recommendations = resource.get("recommendation") or []
        text = _first_concept(r.get("vaccineCode", [{}])[0] if r.get("vaccineCode") else {} for r in recommendations)
        text = text or ", ".join(_first_concept(r.get("vaccineCode")) for r in recommendations)
        detail = ", ".join(d.get("valueDateTime", "") for r in recommendations for d in r.get("dateCriterion") or [])
    elif kind == "ServiceRequest":
        text = _concept(resource.get("code"))
        detail = resource.get("status", "")
    elif kind == "Appointment":
        text = resource.get("description") or _first_concept(resource.get("serviceType"))
        detail = resource.get("start", "")
    elif kind == "CarePlan":
        text = resource.get("title") or resource.get("description", "")
        detail = resource.get("description", "") if resource.get("title") else ""
    elif kind == "Encounter":
        text = (resource.get("class") or {}).get("display", "") or _first_concept(resource.get("type"))
        period = resource.get("period") or {}
        detail = f"{period.get('start', '')} – {period.get('end', '')}".strip(" –")
    elif kind in ("DocumentReference", "Binary", "Media"):
        text = resource.get("description") or _concept(resource.get("type")) or KIND_LABELS[kind]
        attachment = _attachment(resource) or {}
        content = content_type_label(attachment.get("content_type", ""))
        detail = " · ".join(filter(None, [attachment.get("title", ""), content]))
        # The facts too, so that reads word the content type in the reader's language (with_labels).
        return {
            "kind": label,
            "text": str(text or ""),
            "detail": str(detail or ""),
            "file_title": attachment.get("title", ""),
            "content_type": attachment.get("content_type", ""),
        }
    elif kind == "ImagingStudy":
        text = resource.get("description") or _first_concept(resource.get("procedureCode"))
        detail = ", ".join(
            _concept(s.get("modality")) or s.get("modality", {}).get("code", "") for s in resource.get("series") or []
        )
    elif kind == "Specimen":
        text = _concept(resource.get("type"))
    else:
        text = _concept(resource.get("code")) or resource.get("title", "") or resource.get("description", "")
    return {"kind": label, "text": str(text or ""), "detail": str(detail or "")}


def kind_labels() -> dict[str, str]:
    """Resource-type labels in the active language (compute once per response, not per item)."""
    return {kind: str(label) for kind, label in KIND_LABELS.items()}


@functools.cache
def _in_every_language(label) -> frozenset[str]:
    """A portal label as each language words it: a summary stored earlier holds it in the language of its filing."""
    words = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words.add(str(label))
    return frozenset(words)


def _attachment_words(item: dict) -> tuple[str, str]:
    """An attachment's text and detail in the active language, the file's title once: "Lab report — PDF document";
    without a description of its own, its title or "PDF document" stands in (the label already says "Attachment")."""
    if "content_type" in item:
        parts = [item.get("file_title", ""), content_type_label(item["content_type"])]
    else:  # stored before the content type was kept: its label is the detail's last part
        parts = item["detail"].split(" · ")
        for label in (*CONTENT_TYPE_LABELS.values(), FILE_LABEL):
            if parts[-1] in _in_every_language(label):
                parts[-1] = str(label)
    parts = [part for part in parts if part]
    text = item["text"]
    if text in _in_every_language(KIND_LABELS[item["kind"]]):  # no description: the label already says it
        text = parts.pop(0) if parts else str(KIND_LABELS[item["kind"]])
    return text, " · ".join(part for part in parts if part != text)


# FHIR dates and date-times inside an item's words (an immunization's date, a visit's period, a follow-up's start).
ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?(?![\d:])")


def readable_dates(text: str) -> str:
    """FHIR dates day first: 2021-02-21 reads "21 Feb 2021", 2020-07-12T09:00:00Z "12 Jul 2020 14:30" (local time)."""

    def one(match: re.Match) -> str:
        try:
            if match.group(2):
                value = datetime.datetime.fromisoformat(match.group(0))
                if timezone.is_aware(value):
                    value = timezone.localtime(value)
                return formats.date_format(value, "j M Y H:i")
            return formats.date_format(datetime.date.fromisoformat(match.group(1)), "j M Y")
        except ValueError:
            return match.group(0)

    return ISO_DATE.sub(one, text) if text else text


def _for_reading(item: dict, labels: dict[str, str]) -> dict:
    item = {**item, "label": labels.get(item["kind"], item["kind"])}
    if item["kind"] in ATTACHMENT_KINDS:
        item["text"], item["detail"] = _attachment_words(item)
    item["detail"] = readable_dates(item.get("detail", ""))
    return item


def with_labels(summary: dict, labels: dict[str, str] | None = None) -> dict:
    """The stored summary in the active language (for pages and the API): each item's label, an attachment's
    content type and FHIR dates are worded at read time, whatever language the record was filed in."""
    labels = labels or kind_labels()
    return {
        **summary,
        "sections": [
            {"title": section["title"], "items": [_for_reading(item, labels) for item in section["items"]]}
            for section in summary.get("sections", [])
        ],
    }


def summarize(bundle: dict) -> dict:
    """A readable outline of a document bundle: title, date, people, and each section's items.

    Computed once when the record is stored (HealthRecord.summary), so reads need not parse bundles.
    """
    entries = bundle.get("entry") or []
    by_reference = {}
    for entry in entries:
        resource = entry.get("resource") or {}
        kind, rid = resource.get("resourceType"), resource.get("id")
        if entry.get("fullUrl"):
            by_reference[entry["fullUrl"]] = resource
        if kind and rid:
            by_reference[f"{kind}/{rid}"] = resource
    composition = (entries[0].get("resource") or {}) if entries else {}
    author_names = []
    for author in composition.get("author") or []:
        resource = by_reference.get(author.get("reference", ""))
        name = _name(resource) if resource else author.get("display", "")
        if name and resource and resource.get("resourceType") != "Patient":
            author_names.append(name)
    custodian = by_reference.get((composition.get("custodian") or {}).get("reference", ""))
    sections = []
    for section in composition.get("section") or []:
        items = []
        for reference in section.get("entry") or []:
            resource = by_reference.get(reference.get("reference", ""))
            if resource:
                items.append(_describe(resource))
        sections.append({"title": section.get("title") or _concept(section.get("code")), "items": items})
    patient = next((r for r in by_reference.values() if r.get("resourceType") == "Patient"), {})
    return {
        "title": composition.get("title", ""),
        "date": composition.get("date", ""),
        "type": _concept(composition.get("type")),
        "authors": author_names,
        "custodian": _name(custodian) if custodian else "",
        "patient_name": _name(patient),
        "sections": sections,
    }


def index_bundle(
    *,
    bundle_id: str,
    hi_type: str,
    title: str,
    date: str,
    patient_abha: str,
    patient_name: str,
    custodian: str,
    facility_id: str = "",
    system: str = "",
) -> dict:
    """The document a batch row without a bundle or PDF becomes: the visit's Composition, titled with the
    care context's display, naming the patient and the facility that holds the full record (ABDM links
    care contexts; the clinical detail stays with the facility until it sends a bundle for the same record).

    `custodian` is the facility's display name; `system` the Bundle.identifier.system (default: the
    facility's, facility_system)."""
    return _document(
        bundle_id=bundle_id,
        system=system or facility_system(facility_id),
        hi_type=hi_type,
        title=title,
        timestamp=f"{date}T00:00:00+05:30",
        patient=patient_resource(patient_abha=patient_abha, patient_name=patient_name),
        organization=organization_resource(facility_id=facility_id, facility_name=custodian),
        more=[],
    )


# --- The bundle of a care context, as the HIP sends it on the network -------------------------------------------


def _rewrite_references(node, names: dict[str, str]):
    if isinstance(node, dict):
        return {
            key: (names.get(value, value) if key == "reference" and isinstance(value, str) else
                  _rewrite_references(value, names))
            for key, value in node.items()
        }  # fmt: skip
    if isinstance(node, list):
        return [_rewrite_references(value, names) for value in node]
    return node


def _with_patient(bundle: dict, *, patient_abha: str, patient_address: str, patient_name: str) -> dict:
    """`bundle` with its Patient resources naming the patient by ABHA number and ABHA address (typed), their
    other identifiers kept; a bundle without a Patient gets one, referenced by the Composition's subject."""
    bundle = bundle_with_patient(bundle, patient_abha=patient_abha)
    entries = _list(bundle.get("entry"))
    patients = [e["resource"] for e in entries if isinstance(e, dict) and (e.get("resource") or {}).get(
        "resourceType") == "Patient"]  # fmt: skip
    if not patients:
        patient = patient_resource(patient_abha=patient_abha, patient_name=patient_name)
        entries.insert(1, {"fullUrl": "Patient/1", "resource": patient})
        patients = [patient]
        for entry in entries:
            resource = entry.get("resource") or {}
            if resource.get("resourceType") == "Composition":
                resource["subject"] = {"reference": "Patient/1"}
    for patient in patients:
        patient.setdefault("meta", {}).setdefault("profile", [NRCES_PROFILE_BASE + "Patient"])
        identifiers = [i for i in _list(patient.get("identifier")) if _abha_kind(i) != ABHA_ADDRESS]
        if patient_address:
            identifiers.append(_abha_address_identifier(patient_address))
        if identifiers:
            patient["identifier"] = identifiers
        if patient_name and not patient.get("name"):
            patient["name"] = [{"text": patient_name}]
    bundle["entry"] = entries
    return bundle


def _merge(bundles: list[dict]) -> dict:
    """One document bundle from several of one care context: the first's Composition and Patient, the others'
    resources renamed `<id>-<n>` (their references rewritten), their Compositions' sections appended."""
    base = copy.deepcopy(bundles[0])
    entries = _list(base.get("entry"))
    composition = next((e["resource"] for e in entries if (e.get("resource") or {}).get("resourceType") ==
                        "Composition"), None)  # fmt: skip
    patient_url = next((e.get("fullUrl") for e in entries if (e.get("resource") or {}).get("resourceType") ==
                        "Patient"), "Patient/1")  # fmt: skip
    for number, other in enumerate(bundles[1:], start=2):
        names = {}
        kept = []
        for entry in _list(other.get("entry")):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                continue
            kind, old_id, old_url = resource.get("resourceType"), resource.get("id"), entry.get("fullUrl")
            if kind == "Patient":
                for name in (old_url, f"{kind}/{old_id}"):
                    if name:
                        names[name] = patient_url
                continue
            new_id = f"{old_id}-{number}" if old_id else None
            new_url = f"{kind}/{new_id}" if old_url and not str(old_url).startswith("urn:") and new_id else old_url
            if old_id:
                names[f"{kind}/{old_id}"] = f"{kind}/{new_id}"
            if old_url:
                names[old_url] = new_url
            kept.append((new_url, new_id, resource))
        for new_url, new_id, resource in kept:
            resource = _rewrite_references(resource, names)
            if new_id:
                resource["id"] = new_id
            if resource.get("resourceType") == "Composition":
                if composition is not None:
                    composition.setdefault("section", []).extend(_list(resource.get("section")))
                continue
            entries.append({"fullUrl": new_url, "resource": resource})
    base["entry"] = entries
    return base


def care_context_bundle(care_context, *, records=None) -> dict:
    """The FHIR document bundle the HIP sends for one care context: its current records' bundles (one as is, several
    merged into one document), the Patient naming the citizen by ABHA number and ABHA address as typed identifiers,
    NRCES profiles on the Bundle and Composition, every reference resolving inside the bundle.

    `records` defaults to the care context's current records, newest first (one query, plus one for the patient's
    addresses)."""
    from .models import HealthRecord

    if records is None:
        records = list(
            HealthRecord.objects.current()
            .filter(care_context=care_context)
            .select_related("facility", "patient")
            .order_by("-record_date", "-id")
        )
    patient = care_context.patient
    number = patient.abha_number if patient else ""
    address = ""
    if patient is not None:
        from abha.identifiers import address_full

        local = patient.addresses.order_by("-is_primary", "created_at").values_list("local", flat=True).first()
        address = address_full(local or patient.abha_number)
    name = patient.full_name if patient else care_context.patient_name
    if not records:  # a visit noted without a document yet: its index document, built from its fields
        facility = care_context.facility
        bundle = index_bundle(
            bundle_id=str(care_context.uuid),
            hi_type="HealthDocumentRecord",
            title=care_context.display,
            date=care_context.date.isoformat(),
            patient_abha=number,
            patient_name=name,
            custodian=facility.name,
            facility_id=facility.facility_id,
        )
        return _with_patient(bundle, patient_abha=number, patient_address=address, patient_name=name)
    from .linking.documents import record_bundle  # it builds on this module

    bundles = [record_bundle(record) for record in records]
    bundle = bundles[0] if len(bundles) == 1 else _merge(bundles)
    bundle = _with_patient(bundle, patient_abha=number, patient_address=address, patient_name=name)
    bundle.setdefault("meta", {})
    profiles = _list(bundle["meta"].get("profile"))
    if NRCES_PROFILE_BASE + "DocumentBundle" not in profiles:
        bundle["meta"]["profile"] = [*profiles, NRCES_PROFILE_BASE + "DocumentBundle"]
    bundle["type"] = "document"
    hi_type = records[0].hi_type
    for entry in _list(bundle.get("entry")):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Composition":
            meta = resource.setdefault("meta", {})
            if not any(str(p).startswith(NRCES_PROFILE_BASE) for p in _list(meta.get("profile"))):
                meta["profile"] = [*_list(meta.get("profile")), COMPOSITION_PROFILES[hi_type]]
            break
    return bundle
