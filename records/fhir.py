"""FHIR R4 document bundles: validation on the way in, a readable summary on the way out.

Validation is two layers: the `fhir.resources` R4B models (structure and datatypes of every
resource), then the portal's rules (a `document` bundle, Composition first, its type code
matching the hiType, a patient reference). Rendering works on the stored JSON, without queries.
"""

import base64
import hashlib
import json
import uuid as uuid_lib
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from .enums import COMPOSITION_CODES, COMPOSITION_DISPLAYS

MAX_ERRORS = 20


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


def _location(loc) -> str:
    return ".".join(str(part) for part in loc)


def bundle_sha256(bundle: dict) -> str:
    return hashlib.sha256(json.dumps(bundle, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def validate_bundle(bundle, hi_type: str) -> BundleFacts:
    """Raise BundleError unless `bundle` (parsed JSON) is a valid document bundle of `hi_type`."""
    if not isinstance(bundle, dict):
        raise BundleError([_("The bundle must be a JSON object.")])
    if bundle.get("resourceType") != "Bundle":
        raise BundleError([_("resourceType must be Bundle.")])
    try:
        Bundle.model_validate(bundle)
    except ValidationError as error:
        errors = [f"{_location(item['loc'])}: {item['msg']}" for item in error.errors()[:MAX_ERRORS]]
        raise BundleError(errors or [_("The bundle is not valid FHIR R4.")]) from None
    except (TypeError, ValueError) as error:
        raise BundleError([str(error)[:300]]) from None

    errors = []
    if bundle.get("type") != "document":
        errors.append(_("type: a health record must be a FHIR document bundle (type document)."))
    entries = bundle.get("entry") or []
    composition = (entries[0].get("resource") or {}) if entries else {}
    if composition.get("resourceType") != "Composition":
        errors.append(_("entry.0: the first entry of a document bundle must be its Composition."))
    else:
        codes = {coding.get("code") for coding in (composition.get("type") or {}).get("coding") or []}
        expected = COMPOSITION_CODES.get(hi_type)
        if expected is None:
            errors.append(_("hi_type: unknown health information type."))
        elif expected not in codes:
            errors.append(
                _("entry.0.resource.type: the Composition type code must be %(code)s for %(hi_type)s.")
                % {"code": expected, "hi_type": hi_type}
            )
        subject = (composition.get("subject") or {}).get("reference") or ""
        if not subject:
            errors.append(_("entry.0.resource.subject: the Composition must reference the patient."))
        elif not any(
            (entry.get("resource") or {}).get("resourceType") == "Patient" for entry in entries
        ) and not subject.startswith(("Patient/", "urn:")):
            errors.append(_("entry.0.resource.subject: the Composition must reference a Patient."))
    if errors:
        raise BundleError(errors)
    identifier = (bundle.get("identifier") or {}).get("value") or bundle.get("id") or ""
    sha = bundle_sha256(bundle)
    return BundleFacts(
        record_key=str(identifier)[:128] or sha[:32],
        title=str(composition.get("title") or "")[:200],
        date=str(composition.get("date") or ""),
        sha256=sha,
    )


def document_bundle(
    *, hi_type: str, title: str, date: str, content_type: str, data: bytes, patient_abha: str, patient_name: str
) -> dict:
    """A minimal document bundle around an uploaded PDF or image (staff's "upload a file")."""
    bundle_id = str(uuid_lib.uuid4())
    code = COMPOSITION_CODES[hi_type]
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": f"{date}T00:00:00+05:30"},
        "identifier": {"system": "https://portal.local/records", "value": bundle_id},
        "type": "document",
        "timestamp": f"{date}T00:00:00+05:30",
        "entry": [
            {
                "fullUrl": "Composition/1",
                "resource": {
                    "resourceType": "Composition",
                    "id": "1",
                    "status": "final",
                    "type": {"coding": [{"system": "http://snomed.info/sct", "code": code}], "text": title},
                    "subject": {"reference": "Patient/1"},
                    "date": f"{date}T00:00:00+05:30",
                    "author": [{"reference": "Patient/1"}],
                    "title": title,
                    "section": [{"title": title, "entry": [{"reference": "DocumentReference/1"}]}],
                },
            },
            {
                "fullUrl": "Patient/1",
                "resource": {
                    "resourceType": "Patient",
                    "id": "1",
                    "identifier": [{"system": "https://healthid.ndhm.gov.in", "value": patient_abha}],
                    "name": [{"text": patient_name}],
                },
            },
            {
                "fullUrl": "DocumentReference/1",
                "resource": {
                    "resourceType": "DocumentReference",
                    "id": "1",
                    "status": "current",
                    "type": {"text": title},
                    "content": [
                        {
                            "attachment": {
                                "contentType": content_type,
                                "title": title,
                                "data": base64.b64encode(data).decode(),
                            }
                        }
                    ],
                },
            },
        ],
    }


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
    for content in resource.get("content") or []:
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
        text = resource.get("description") or _concept(resource.get("type")) or kind
        attachment = _attachment(resource) or {}
        detail = " ".join(filter(None, [attachment.get("title", ""), attachment.get("content_type", "")]))
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


def with_labels(summary: dict, labels: dict[str, str] | None = None) -> dict:
    """The stored summary with each item's label in the active language (for pages and the API)."""
    labels = labels or kind_labels()
    return {
        **summary,
        "sections": [
            {
                "title": section["title"],
                "items": [{**item, "label": labels.get(item["kind"], item["kind"])} for item in section["items"]],
            }
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
    *, bundle_id: str, hi_type: str, title: str, date: str, patient_abha: str, patient_name: str, custodian: str
) -> dict:
    """The document a batch row without a bundle or PDF becomes: the visit's Composition, titled with the
    care context's display, naming the patient and the facility that holds the full record (ABDM links
    care contexts; the clinical detail stays with the facility until it sends a bundle for the same record)."""
    timestamp = f"{date}T00:00:00+05:30"
    patient = {"resourceType": "Patient", "id": "1"}  # FHIR JSON has no empty lists: keys only when known
    if patient_abha:
        patient["identifier"] = [{"system": "https://healthid.ndhm.gov.in", "value": patient_abha}]
    if patient_name:
        patient["name"] = [{"text": patient_name}]
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "identifier": {"system": "https://portal.local/records", "value": bundle_id},
        "type": "document",
        "timestamp": timestamp,
        "entry": [
            {
                "fullUrl": "Composition/1",
                "resource": {
                    "resourceType": "Composition",
                    "id": "1",
                    "status": "final",
                    "type": {
                        "coding": [
                            {
                                "system": "http://snomed.info/sct",
                                "code": COMPOSITION_CODES[hi_type],
                                "display": COMPOSITION_DISPLAYS[hi_type],
                            }
                        ]
                    },
                    "subject": {"reference": "Patient/1"},
                    "date": timestamp,
                    "author": [{"reference": "Organization/1"}],
                    "custodian": {"reference": "Organization/1"},
                    "title": title,
                },
            },
            {"fullUrl": "Patient/1", "resource": patient},
            {"fullUrl": "Organization/1", "resource": {"resourceType": "Organization", "id": "1", "name": custodian}},
        ],
    }
