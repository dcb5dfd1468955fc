"""The facility and professional registries (HFR, HPR): look-ups the facilities app checks its entries against.

Operations of NHA's published OpenAPI `catalogue/openapi/hiecm/v3/hiecm-m4.yaml` (server https://apihspsbx.abdm.gov.in/v4/int,
our ABDM_HFR_URL), called through `abdm.client.hfr_request`:

- `POST /FacilityManagement/v1.5/facility/search` (operationId m4_post_facilitymanagement_v1_5_facility_search,
  NHA's `searchFacility`): body SearchFacilityRequestDTO (ownershipCode, subDistrictLGDCode, pincode, facilityName,
  facilityId, page, resultsPerPage, stateLGDCode, districtLGDCode; every code a string), answer
  FacilitySearchResponse (facilities[SearchFacilityResponseDTO], message, totalFacilities, numberOfPages).
- `GET /v1/search/searchByHprId/{hprId}` (operationId m4_get_v1_search_searchbyhprid_hprid, NHA's
  `searchUserByHprId`): answer ForgetUserEntityResponseDTO (hprIdNumber, name, authMethods, hprId, categoryId,
  subCategoryId).

The answers are turned into small frozen records (`HfrFacility`, `HprProfessional`) so callers never read ABDM's
field names. "Not found" is None or an empty result, whichever way the registry says it: the spec's 404, an
ABDM-1001 "No data found", or an empty list. Any other refusal is the client's AbdmError; an outage is
AbdmUnavailable, for the caller to show ("ABDM is not answering, try again in a minute").
"""

import re
import unicodedata
from dataclasses import dataclass, field

from .client import AbdmError, hfr_request

FACILITY_SEARCH_PATH = "/FacilityManagement/v1.5/facility/search"
HPR_SEARCH_PATH = "/v1/search/searchByHprId/{hpr_id}"

HFR_ID = re.compile(r"^IN[0-9]{10}$")
HPR_ID_DIGITS = 14
NOT_FOUND_CODES = {"ABDM-1001", "404"}


@dataclass(frozen=True)
class HfrFacility:
    """A facility as HFR's search describes it (SearchFacilityResponseDTO)."""

    facility_id: str
    name: str
    state_lgd: int | None = None
    state_name: str = ""
    district_lgd: int | None = None
    district_name: str = ""
    address: str = ""
    pincode: str = ""
    latitude: str = ""
    longitude: str = ""
    status: str = ""  # facilityStatus, e.g. "Submitted", "Approved"
    ownership_code: str = ""
    facility_type: str = ""
    systems_of_medicine: list[str] = field(default_factory=list)  # systemOfMedicineCode split on ","


@dataclass(frozen=True)
class FacilitySearchResult:
    facilities: list[HfrFacility]
    total: int
    pages: int


@dataclass(frozen=True)
class HprProfessional:
    """A professional as HPR's search by ID describes them (ForgetUserEntityResponseDTO)."""

    hpr_id: str  # 14 digits, no separators
    name: str
    hpr_address: str = ""  # e.g. name@hpr.abdm
    category_id: str = ""
    sub_category_id: str = ""


# --- Shapes ------------------------------------------------------------------------------------------------


def normalise_hfr_id(value: str) -> str:
    """An HFR ID as typed (any case, spaces) in its canonical form `IN` + 10 digits; "" when it has not that shape."""
    text = re.sub(r"\s+", "", str(value or "")).upper()
    return text if HFR_ID.match(text) else ""


def normalise_hpr_id(value: str) -> str:
    """An HPR ID number as typed (with dashes or spaces, as HPR prints it: 71-1227-4427-0212) as its 14 digits;
    "" when it is not 14 digits."""
    digits = re.sub(r"[\s-]", "", str(value or ""))
    return digits if digits.isdecimal() and len(digits) == HPR_ID_DIGITS else ""


def hpr_id_display(digits: str) -> str:
    """NN-NNNN-NNNN-NNNN, the way HPR prints an ID number (and takes it in its search path)."""
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:10]}-{digits[10:]}" if len(digits) == HPR_ID_DIGITS else digits


def comparable(text: str) -> str:
    """A name as people compare it: case, accents, punctuation and spacing ignored ("Sir T. General  hospital" and
    "sir t general hospital" agree)."""
    text = unicodedata.normalize("NFKC", str(text or "")).casefold()
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


def _code(value) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdecimal() else None


def _text(value) -> str:
    return "" if value is None else str(value).strip()


# --- Facilities --------------------------------------------------------------------------------------------


def _facility(item: dict) -> HfrFacility:
    systems = [code.strip() for code in _text(item.get("systemOfMedicineCode")).split(",") if code.strip()]
    return HfrFacility(
        facility_id=_text(item.get("facilityId")).upper(),
        name=_text(item.get("facilityName")),
        state_lgd=_code(item.get("stateLGDCode")),
        state_name=_text(item.get("stateName")),
        district_lgd=_code(item.get("districtLGDCode")),
        district_name=_text(item.get("districtName")),
        address=_text(item.get("address")),
        pincode=_text(item.get("pincode")),
        latitude=_text(item.get("latitude")),
        longitude=_text(item.get("longitude")),
        status=_text(item.get("facilityStatus")),
        ownership_code=_text(item.get("ownershipCode")),
        facility_type=_text(item.get("facilityType")),
        systems_of_medicine=systems,
    )


def search_facilities(
    *,
    name: str = "",
    facility_id: str = "",
    state_lgd: int | None = None,
    district_lgd: int | None = None,
    pincode: str = "",
    page: int = 1,
    per_page: int = 10,
    timeout: float | None = None,
) -> FacilitySearchResult:
    """HFR's facility search (by ID, or by name within a state and district). One HTTP call.

    Raises AbdmUnavailable when HFR does not answer, AbdmError when it refuses the search.
    """
    body = {
        "ownershipCode": "",
        "subDistrictLGDCode": "",
        "pincode": pincode or "",
        "facilityName": name or "",
        "facilityId": facility_id or "",
        "page": int(page),
        "resultsPerPage": int(per_page),
        "stateLGDCode": str(state_lgd) if state_lgd else "",
        "districtLGDCode": str(district_lgd) if district_lgd else "",
    }
    try:
        answer = hfr_request("POST", FACILITY_SEARCH_PATH, json=body, timeout=timeout)
    except AbdmError as error:
        if error.code in NOT_FOUND_CODES or error.status == 404:
            return FacilitySearchResult(facilities=[], total=0, pages=0)
        raise
    if not isinstance(answer, dict):
        return FacilitySearchResult(facilities=[], total=0, pages=0)
    items = [item for item in answer.get("facilities") or [] if isinstance(item, dict)]
    facilities = [_facility(item) for item in items]
    return FacilitySearchResult(
        facilities=facilities,
        total=_code(answer.get("totalFacilities")) or len(facilities),
        pages=_code(answer.get("numberOfPages")) or (1 if facilities else 0),
    )


def facility_by_id(facility_id: str, *, timeout: float | None = None) -> HfrFacility | None:
    """The facility HFR has under this ID (searched by `facilityId`), or None. One HTTP call.

    Only an exact match of the ID counts: a search that answers with other facilities is "not found".
    """
    wanted = normalise_hfr_id(facility_id)
    if not wanted:
        return None
    result = search_facilities(facility_id=wanted, per_page=10, timeout=timeout)
    return next((item for item in result.facilities if item.facility_id == wanted), None)


@dataclass(frozen=True)
class Disagreement:
    """A field where the portal's entry and the registry's differ: `field` is "name", "state" or "district"."""

    field: str
    registry_value: str


def facility_disagreements(
    found: HfrFacility,
    *,
    name: str,
    state_lgd: int | None,
    state_name: str = "",
    district_lgd: int | None,
    district_name: str = "",
) -> list[Disagreement]:
    """Where the portal's name, state and district differ from what HFR has (case, spacing and punctuation
    ignored; a state or district compared by LGD code, by name when HFR gives no code). A field the portal has
    not filled yet (None or "") is not compared."""
    out = []
    if name and comparable(name) != comparable(found.name):
        out.append(Disagreement("name", found.name))
    for key, code, label, their_code, their_name in (
        ("state", state_lgd, state_name, found.state_lgd, found.state_name),
        ("district", district_lgd, district_name, found.district_lgd, found.district_name),
    ):
        if not code:
            continue
        if their_code is not None:
            differs = their_code != code
        else:
            differs = bool(their_name) and comparable(their_name) != comparable(label)
        if differs:
            out.append(Disagreement(key, their_name or str(their_code or "")))
    return out


# --- Professionals -----------------------------------------------------------------------------------------


def professional_by_hpr_id(hpr_id: str, *, timeout: float | None = None) -> HprProfessional | None:
    """The professional HPR has under this ID number, or None. One HTTP call (the ID in the path as HPR prints it).

    Raises AbdmUnavailable when HPR does not answer, AbdmError when it refuses otherwise.
    """
    digits = normalise_hpr_id(hpr_id)
    if not digits:
        return None
    try:
        answer = hfr_request("GET", HPR_SEARCH_PATH.format(hpr_id=hpr_id_display(digits)), timeout=timeout)
    except AbdmError as error:
        if error.code in NOT_FOUND_CODES or error.status in (400, 404):
            return None
        raise
    if not isinstance(answer, dict) or not answer.get("hprIdNumber"):
        return None
    found = normalise_hpr_id(answer.get("hprIdNumber"))
    if found != digits:
        return None
    return HprProfessional(
        hpr_id=found,
        name=_text(answer.get("name")),
        hpr_address=_text(answer.get("hprId")),
        category_id=_text(answer.get("categoryId")),
        sub_category_id=_text(answer.get("subCategoryId")),
    )


SALUTATIONS = {"dr", "doctor", "mr", "mrs", "ms", "shri", "smt"}


def person_names_agree(ours: str, theirs: str) -> bool:
    """A professional's name here and on HPR agree: case, spacing, punctuation and a leading title ("Dr") ignored."""

    def core(text):
        words = comparable(text).split()
        while words and words[0] in SALUTATIONS:
            words = words[1:]
        return " ".join(words)

    return core(ours) == core(theirs)
