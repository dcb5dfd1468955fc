"""HFR and HPR (hiecm-m4.yaml, server https://apihspsbx.abdm.gov.in/v4/int), mounted at /v4/int/.

M4 operations carry only the gateway session's bearer token (the spec's global bearerAuth; no REQUEST-ID or
TIMESTAMP parameters). The spec gives every operation a 200 and a 404 whose body is a plain string.
"""

import math
import re

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone

from .auth import require_session
from .errors import abdm_error
from .http import api_view, json_body, ok
from .identifiers import format_hpr_number, mint_facility_id, mint_hpr_id_number
from .models import Bridge, BridgeService, HfrFacility, HprProfessional

OWNERSHIP = {"G": "GOVERNMENT", "P": "PRIVATE", "PP": "PUBLIC-PRIVATE-PARTNERSHIP"}
# HFR master data "MEDICINE" (GET /v1.5/facility/get-master-data?type=MEDICINE).
SYSTEMS_OF_MEDICINE = {
    "M": "Modern Medicine(Allopathy)",
    "D": "Dentistry",
    "P": "Physiotherapy",
    "A": "Ayurveda",
    "UN": "Unani",
    "SD": "Siddha",
    "SR": "Sowa-Rigpa",
    "H": "Homeopathy",
    "YN": "Yoga & Naturopathy",
}
SEARCH_PAGE_MAX = 100
_HIP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .\-]*$")
_HPR_NUMBER = re.compile(r"^\d{2}-?\d{4}-?\d{4}-?\d{4}$")


def not_found(text: str) -> HttpResponse:
    """The spec's 404: `*/*` with a string body."""
    return HttpResponse(text, status=404, content_type="text/plain; charset=utf-8")


# --- HFR: facility search -------------------------------------------------------------------------------------


def facility_json(facility: HfrFacility) -> dict:
    """One SearchFacilityResponseDTO."""
    codes = [code.strip() for code in facility.system_of_medicine_code.split(",") if code.strip()]
    return {
        "ownership": OWNERSHIP.get(facility.ownership_code, facility.ownership_code),
        "systemOfMedicineCode": ",".join(codes),
        "systemOfMedicine": ",".join(SYSTEMS_OF_MEDICINE.get(code, code) for code in codes),
        "facilityType": facility.facility_type,
        "workingInPsu": False,
        "facPsuName": "",
        "stateName": facility.state_name,
        "stateLGDCode": facility.state_lgd_code,
        "districtName": facility.district_name,
        "districtLGDCode": facility.district_lgd_code,
        "subDistrictName": facility.sub_district_name,
        "subDistrictLGDCode": facility.sub_district_lgd_code,
        "villageCityTownName": None,
        "villageCityTownLGDCode": None,
        "address": facility.address,
        "pincode": facility.pincode,
        "latitude": facility.latitude,
        "longitude": facility.longitude,
        "facilityId": facility.facility_id,
        "facilityName": facility.name,
        "facilityStatus": facility.status,
        "ownershipCode": facility.ownership_code,
        "facilityTypeCode": facility.facility_type_code,
    }


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    return str(value).strip()


def _positive_int(value, default: int) -> int | None:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 1 else None


@api_view("POST")
@require_session(headers=False)
def facility_search(request):
    """POST /FacilityManagement/v1.5/facility/search (SearchFacilityRequestDTO -> FacilitySearchResponse).
    Every non-empty criterion must match: facilityId exactly (case-insensitive), facilityName as a
    case-insensitive substring, the LGD codes, pincode and ownershipCode exactly. Draft facilities never match."""
    body = json_body(request)
    page = _positive_int(body.get("page"), 1)
    per_page = _positive_int(body.get("resultsPerPage"), 10)
    if page is None or per_page is None:
        return abdm_error(400, "ABDM-1006", "page and resultsPerPage must be positive integers")
    per_page = min(per_page, SEARCH_PAGE_MAX)
    facilities = HfrFacility.objects.exclude(status=HfrFacility.Status.DRAFT)
    filters = {
        "facilityId": "facility_id__iexact",
        "facilityName": "name__icontains",
        "stateLGDCode": "state_lgd_code",
        "districtLGDCode": "district_lgd_code",
        "subDistrictLGDCode": "sub_district_lgd_code",
        "pincode": "pincode",
        "ownershipCode": "ownership_code__iexact",
    }
    for field, lookup in filters.items():
        value = _text(body, field)
        if value:
            facilities = facilities.filter(**{lookup: value})
    total = facilities.count()
    rows = facilities.order_by("name", "facility_id")[(page - 1) * per_page : page * per_page]
    return ok(
        {
            "facilities": [facility_json(facility) for facility in rows],
            "message": "Request processed successfully",
            "totalFacilities": total,
            "numberOfPages": math.ceil(total / per_page),
        }
    )


# --- HFR: bridge services (facility <-> bridge linkage) -------------------------------------------------------


def _hrp_errors(body: dict) -> list[dict]:
    errors = []
    facility_id = _text(body, "facilityId")
    if not re.fullmatch(r"IN\d+", facility_id):
        errors.append({"field": "facilityId", "message": "facilityId must be IN followed by digits"})
    if not _text(body, "facilityName"):
        errors.append({"field": "facilityName", "message": "facilityName is required"})
    entries = body.get("HRP")
    if not isinstance(entries, list) or not entries:
        errors.append({"field": "HRP", "message": "HRP must list at least one bridge"})
        return errors
    for index, entry in enumerate(entries):
        where = f"HRP[{index}]"
        if not isinstance(entry, dict):
            errors.append({"field": where, "message": "must be an object"})
            continue
        for name in ("bridgeId", "hipName", "type"):
            if not isinstance(entry.get(name), str) or not entry[name].strip():
                errors.append({"field": f"{where}.{name}", "message": f"{name} is required"})
        if not isinstance(entry.get("active"), bool):
            errors.append({"field": f"{where}.active", "message": "active must be true or false"})
        if entry.get("type") not in (None, "HIP", "HIU") and isinstance(entry.get("type"), str):
            errors.append({"field": f"{where}.type", "message": "type must be HIP or HIU"})
        hip_name = entry.get("hipName")
        if isinstance(hip_name, str) and hip_name.strip() and not _HIP_NAME.match(hip_name.strip()):
            errors.append({"field": f"{where}.hipName", "message": "hipName must not carry special characters"})
    return errors


def _hrp_failure(facility_id: str, message: str, errors: list[dict], code: str = "ABDM-1006"):
    """A refusal: 400 with HFR's envelope (status, message, errorStatus) and an ABDM code beside it."""
    body = {"facilityId": facility_id, "status": "Failure", "code": code, "message": message, "errorStatus": errors}
    return ok(body, 400)


@api_view("POST")
@require_session(headers=False)
def bridges_add_update_services(request):
    """POST /v1/bridges/MutipleHRPAddUpdateServices (BridgeAddUpdateRequestDTO): link a facility to bridges, each
    entry as HIP or HIU, active or not. The facility becomes (or stays) a service of each bridge, with the facility
    ID as its service ID and hipName as its name; `active: false` deactivates it."""
    body = json_body(request)
    facility_id = _text(body, "facilityId")
    errors = _hrp_errors(body)
    if errors:
        return _hrp_failure(facility_id, "Invalid request", errors)
    facility = HfrFacility.objects.filter(facility_id__iexact=facility_id).first()
    if facility is None or facility.status == HfrFacility.Status.DRAFT:
        return _hrp_failure(
            facility_id,
            "Health facility does not exist",
            [{"field": "facilityId", "message": "not on HFR"}],
            code="ABDM-1065",
        )
    entries = body["HRP"]
    bridge_ids = {entry["bridgeId"].strip() for entry in entries}
    bridges = {bridge.bridge_id: bridge for bridge in Bridge.objects.filter(bridge_id__in=bridge_ids)}
    unknown = sorted(bridge_ids - bridges.keys())
    if unknown:
        return _hrp_failure(
            facility_id,
            "Bridge does not exist",
            [{"field": "bridgeId", "message": f"unknown bridge {b}"} for b in unknown],
        )
    names = {}
    for entry in entries:
        names.setdefault(entry["hipName"].strip().lower(), set()).add(entry["bridgeId"].strip())
    if any(len(owners) > 1 for owners in names.values()):
        return _hrp_failure(facility_id, "hipName must be unique for every bridge linked to the facility", [])
    with transaction.atomic():
        # One linkage of a facility at a time (two at once would both create its service row).
        HfrFacility.objects.select_for_update().filter(pk=facility.pk).first()
        others = BridgeService.objects.filter(service_id=facility.facility_id).exclude(bridge__bridge_id__in=bridge_ids)
        taken = {service.name.lower() for service in others}
        if taken & names.keys():
            return _hrp_failure(facility_id, "hipName is already used by another bridge of this facility", [])
        for bridge_id in sorted(bridge_ids):
            mine = [entry for entry in entries if entry["bridgeId"].strip() == bridge_id]
            _link(bridges[bridge_id], facility, mine)
    return ok(
        {
            "facilityId": facility.facility_id,
            "status": "Success",
            "message": "Bridge services added/updated successfully",
            "errorStatus": None,
        }
    )


def _link(bridge: Bridge, facility: HfrFacility, entries: list[dict]) -> None:
    """The bridge's service row for the facility: its service ID is the facility ID (ABDM keys services by it)."""
    service = BridgeService.objects.select_for_update().filter(bridge=bridge, service_id=facility.facility_id).first()
    if service is None:
        service = BridgeService(service_id=facility.facility_id, bridge=bridge, register_time=timezone.now())
    service.name = entries[-1]["hipName"].strip()
    for entry in entries:
        if entry["type"] == "HIP":
            service.is_hip = entry["active"] or service.is_hip
        else:
            service.is_hiu = entry["active"] or service.is_hiu
    service.active = any(entry["active"] for entry in entries)
    service.save()


# --- HPR: professionals by HPR ID ------------------------------------------------------------------------------


def _find_professional(hpr_id: str) -> HprProfessional | None:
    value = hpr_id.strip()
    if _HPR_NUMBER.match(value):
        digits = value.replace("-", "")
        return HprProfessional.objects.filter(hpr_id_number=format_hpr_number(digits), active=True).first()
    address = value.lower() if "@" in value else f"{value.lower()}@hpr.abdm"
    return HprProfessional.objects.filter(hpr_id=address, active=True).first()


def professional_json(professional: HprProfessional) -> dict:
    """ForgetUserEntityResponseDTO."""
    return {
        "hprIdNumber": professional.hpr_id_number,
        "name": professional.name,
        "authMethods": ["AADHAAR_OTP", "MOBILE_OTP", "PASSWORD"],
        "hprId": professional.hpr_id,
        "categoryId": professional.category_id,
        "subCategoryId": professional.sub_category_id,
    }


@api_view("GET")
@require_session(headers=False)
def search_by_hpr_id(request, hpr_id):
    """GET /v1/search/searchByHprId/{hprId}: the professional with that HPR ID number (with or without dashes) or
    HPR ID (`name@hpr.abdm`)."""
    professional = _find_professional(hpr_id)
    if professional is None:
        return not_found("HPR ID not found")
    return ok(professional_json(professional))


@api_view("GET")
@require_session(headers=False)
def exists_by_hpr_id(request, hpr_id):
    """GET /v1/search/existsByHprId/{hprId}: true or false."""
    return ok(_find_professional(hpr_id) is not None)


@api_view("POST")
@require_session(headers=False)
def fetch_professional_info(request):
    """POST /apis/v1/doctors/fetch-professional-info {practitioner: {id, name, contactNumber, state,
    registrationNumber}} -> {practitioners: [[...]], message}. Non-empty criteria must all match."""
    body = json_body(request)
    criteria = body.get("practitioner")
    if not isinstance(criteria, dict):
        return abdm_error(400, "ABDM-1006", "practitioner is required")
    people = HprProfessional.objects.filter(active=True)
    hpr_id = _text(criteria, "id")
    if hpr_id:
        found = _find_professional(hpr_id)
        people = people.filter(pk=found.pk if found else None)
    if _text(criteria, "name"):
        people = people.filter(name__icontains=_text(criteria, "name"))
    if _text(criteria, "registrationNumber"):
        people = people.filter(registration_number__iexact=_text(criteria, "registrationNumber"))
    if _text(criteria, "contactNumber"):
        people = people.filter(mobile=_text(criteria, "contactNumber"))
    if not any(_text(criteria, name) for name in ("id", "name", "registrationNumber", "contactNumber")):
        people = people.none()
    rows = [_practitioner(person) for person in people.order_by("name")[:50]]
    return ok({"practitioners": [rows] if rows else [], "message": "Data fetched successfully"})


def _practitioner(person: HprProfessional) -> dict:
    masked = ("******" + person.mobile[-4:]) if person.mobile else ""
    return {
        "identifier": person.pk,
        "active": person.active,
        "name": person.name,
        "gender": {"M": "Male", "F": "Female", "O": "Other"}.get(person.gender, "Undisclosed"),
        "registrations": [
            {
                "category": person.sub_category_name,
                "councilName": person.council_name,
                "registrationNumber": person.registration_number,
                "registrationDate": person.registration_date or None,
            }
        ],
        "hpr_id": person.hpr_id_number,
        "is_council_verified": "true" if person.council_verified else "false",
        "mobileNumber": masked,
        "hpr_category": person.category_name.lower(),
    }


# --- sandbox helpers: seeding --------------------------------------------------------------------------------

_FACILITY_FIELDS = {
    "facilityName": "name",
    "ownershipCode": "ownership_code",
    "systemOfMedicineCode": "system_of_medicine_code",
    "facilityType": "facility_type",
    "facilityTypeCode": "facility_type_code",
    "stateLGDCode": "state_lgd_code",
    "stateName": "state_name",
    "districtLGDCode": "district_lgd_code",
    "districtName": "district_name",
    "subDistrictLGDCode": "sub_district_lgd_code",
    "subDistrictName": "sub_district_name",
    "address": "address",
    "pincode": "pincode",
    "latitude": "latitude",
    "longitude": "longitude",
    "facilityStatus": "status",
}
_FACILITY_REQUIRED = ("facilityName", "ownershipCode", "stateLGDCode", "stateName", "districtLGDCode", "districtName")


def _items(payload, key: str):
    if isinstance(payload, dict) and key in payload:
        payload = payload[key]
    elif isinstance(payload, dict):
        payload = [payload]
    return payload if isinstance(payload, list) and all(isinstance(item, dict) for item in payload) else None


def _json_any(request):
    import json  # noqa: PLC0415

    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


@api_view("POST")
def seed_facilities(request):
    """POST /sandbox/v1/hfr/facilities: one facility, a list, or {"facilities": [...]}, with the fields of the
    search answer (facilityName, ownershipCode, stateLGDCode, stateName, districtLGDCode, districtName, and
    optionally facilityId, facilityType(Code), systemOfMedicineCode, subDistrict*, address, pincode, latitude,
    longitude, facilityStatus Draft|Submitted|Approved|Rejected, default Approved). A given facilityId is
    created or updated; without one an ID is minted. Answers 201 {"facilities": [<search answer rows>]}."""
    items = _items(_json_any(request), "facilities")
    if items is None:
        return abdm_error(400, "ABDM-1006", 'send a facility object, a list of them, or {"facilities": [...]}')
    problems = []
    for index, item in enumerate(items):
        missing = [name for name in _FACILITY_REQUIRED if not _text(item, name)]
        if missing:
            problems.append(f"facilities[{index}]: {', '.join(missing)} required")
        if _text(item, "facilityId") and not re.fullmatch(r"IN\d{10}", _text(item, "facilityId")):
            problems.append(f"facilities[{index}]: facilityId must be IN + 10 digits")
        if _text(item, "ownershipCode") and _text(item, "ownershipCode").upper() not in OWNERSHIP:
            problems.append(f"facilities[{index}]: ownershipCode must be G, P or PP")
        if _text(item, "facilityStatus") and _text(item, "facilityStatus") not in HfrFacility.Status.values:
            problems.append(f"facilities[{index}]: facilityStatus must be one of {HfrFacility.Status.values}")
    if problems:
        return abdm_error(400, "ABDM-1006", "; ".join(problems))
    for attempt in range(2):  # a concurrent seed of the same ID: the second try updates what the first made
        try:
            with transaction.atomic():
                saved = [_save_facility(item) for item in items]
            break
        except IntegrityError:
            if attempt:
                return abdm_error(409, "ABDM-1006", "the same facilities are being seeded at the same time")
    return ok({"facilities": saved}, status=201)


def _save_facility(item: dict) -> dict:
    values = {model: _text(item, field) for field, model in _FACILITY_FIELDS.items() if _text(item, field)}
    values["ownership_code"] = values["ownership_code"].upper()
    facility_id = _text(item, "facilityId") or mint_facility_id(values["state_lgd_code"])
    facility, _ = HfrFacility.objects.update_or_create(facility_id=facility_id, defaults=values)
    return facility_json(facility)


_PROFESSIONAL_FIELDS = {
    "name": "name",
    "gender": "gender",
    "categoryId": "category_id",
    "categoryName": "category_name",
    "subCategoryId": "sub_category_id",
    "subCategoryName": "sub_category_name",
    "stateCode": "state_code",
    "districtCode": "district_code",
    "registrationNumber": "registration_number",
    "councilName": "council_name",
    "registrationDate": "registration_date",
    "mobile": "mobile",
}


@api_view("POST")
def seed_professionals(request):
    """POST /sandbox/v1/hpr/professionals: one professional, a list, or {"professionals": [...]} with name and
    optionally hprIdNumber (14 digits, dashes optional), hprId (`x@hpr.abdm`), gender, categoryId/Name,
    subCategoryId/Name, stateCode, districtCode, registrationNumber, councilName, registrationDate, mobile,
    facilityIds, active. A given hprIdNumber is created or updated; without one a number is minted.
    Answers 201 {"professionals": [{..searchByHprId answer.., "active", "facilityIds"}]}."""
    items = _items(_json_any(request), "professionals")
    if items is None:
        return abdm_error(400, "ABDM-1006", 'send a professional object, a list of them, or {"professionals": [...]}')
    problems = []
    for index, item in enumerate(items):
        if not _text(item, "name"):
            problems.append(f"professionals[{index}]: name required")
        number = _text(item, "hprIdNumber")
        if number and not _HPR_NUMBER.match(number):
            problems.append(f"professionals[{index}]: hprIdNumber must be 14 digits")
        if _text(item, "hprId") and not re.fullmatch(r"[a-z0-9._]+@hpr\.abdm", _text(item, "hprId").lower()):
            problems.append(f"professionals[{index}]: hprId must look like name@hpr.abdm")
        if item.get("facilityIds") is not None and not isinstance(item.get("facilityIds"), list):
            problems.append(f"professionals[{index}]: facilityIds must be a list")
    if problems:
        return abdm_error(400, "ABDM-1006", "; ".join(problems))
    saved = []
    try:
        with transaction.atomic():
            for item in items:
                saved.append(_save_professional(item))
    except IntegrityError:
        return abdm_error(400, "ABDM-1006", "an hprId is already taken by another professional")
    return ok({"professionals": saved}, status=201)


def _save_professional(item: dict) -> dict:
    values = {model: _text(item, field) for field, model in _PROFESSIONAL_FIELDS.items() if _text(item, field)}
    if "gender" in values:
        values["gender"] = values["gender"][:1].upper()
    if isinstance(item.get("facilityIds"), list):
        values["facility_ids"] = [str(value) for value in item["facilityIds"]]
    if isinstance(item.get("active"), bool):
        values["active"] = item["active"]
    number = _text(item, "hprIdNumber")
    number = format_hpr_number(number.replace("-", "")) if number else mint_hpr_id_number()
    existing = HprProfessional.objects.filter(hpr_id_number=number).first()
    hpr_id = _text(item, "hprId").lower() or (existing.hpr_id if existing else f"{number.replace('-', '')}@hpr.abdm")
    values["hpr_id"] = hpr_id
    professional, _ = HprProfessional.objects.update_or_create(hpr_id_number=number, defaults=values)
    return {**professional_json(professional), "active": professional.active, "facilityIds": professional.facility_ids}


urlpatterns_m4 = [
    path("FacilityManagement/v1.5/facility/search", facility_search),
    path("v1/bridges/MutipleHRPAddUpdateServices", bridges_add_update_services),
    path("v1/search/searchByHprId/<str:hpr_id>", search_by_hpr_id),
    path("v1/search/existsByHprId/<str:hpr_id>", exists_by_hpr_id),
    path("apis/v1/doctors/fetch-professional-info", fetch_professional_info),
]
urlpatterns_helpers = [
    path("hfr/facilities", seed_facilities),
    path("hpr/professionals", seed_professionals),
]
