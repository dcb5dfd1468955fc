"""Scan & Share through ABDM: the ABHA app scans a counter's QR and ABDM shares the patient's profile with the portal,
which answers with the OPD token (NHA's patient-share.yaml; the "Scan and share" concept page of nha-in/docs).

- The QR holds ABDM's share-profile URL, `<ABDM_SHARE_PROFILE_URL>?hip-id=<HFR ID>&counter-id=<counter code>`
  (facilities.posters.abdm_share_url prints it). The counter code is 1 to 20 letters and digits and not the
  facility's ID or name (services.abdm_counter_code_problem).
- Webhook `POST <bridge>/api/v3/hip/patient/share` (operationId "patient-share 1"): headers REQUEST-ID, TIMESTAMP,
  X-HIP-ID; body {intent: PROFILE_SHARE | RECORD_SHARE | PAYMENT_SHARE, metaData: {hipId, context (the counter id),
  hprId?, latitude, longitude}, profile: {patient: {abhaNumber (may be null), abhaAddress, name, gender
  M|F|O|D|T|U, dayOfBirth?, monthOfBirth?, yearOfBirth (strings), address {line, district?, state, pincode},
  phoneNumber}}}. The bridge answers 2xx at once (abdm.callbacks: 202 with no body) and registers the patient.
- Answer `POST /api/hiecm/patient-share/v3/on-share` on the gateway (operationId "patient-share 2"; headers
  REQUEST-ID, TIMESTAMP, X-CM-ID; answered 202), sent through the outbox after the token commits:
  success {acknowledgement: {status: SUCCESS, abhaAddress, profile: {context, tokenNumber (string), expiry
  (number: seconds the token stays valid)}}, response: {requestId: the share's REQUEST-ID}}; a refusal
  {error: {code, message}, response: {requestId}} and no token.

Refusals (ABDM's codes from hiecm-m2.yaml's list): another intent ABDM-1149; a facility that is not ours or not
verified ABDM-1035; a counter the facility does not have, or a code ABDM does not allow, ABDM-1050; a closed counter
ABDM-9999 ("HIP is unable to generate a token at this time"); an ABHA deactivated on the portal ABDM-1407. A body
without the profile's mandatory fields is refused on the callback itself (400 ABDM-1006, abdm.callbacks).
"""

import datetime
import logging
import re

from django.db import transaction
from django.utils import timezone

from abdm import callbacks, outbox
from abdm.m1 import Profile
from abha.enums import AccountStatus, Gender
from abha.identifiers import abha_number_display
from abha.selectors import account_by_identifier
from abha.services.enrolment import GENDER_ALIASES, account_from_profile
from core.exceptions import Conflict, DomainError
from core.services import audit_record
from core.sms import mask_mobile

from . import services
from .models import ScanToken

log = logging.getLogger("scanshare.abdm")

SHARE_WEBHOOK = "/api/v3/hip/patient/share"
ON_SHARE_PATH = "/api/hiecm/patient-share/v3/on-share"
ON_SHARE_KIND = "scanshare.on_share"
PROFILE_SHARE = "PROFILE_SHARE"

# (code, message) as ABDM publishes them.
INTENT_NOT_SUPPORTED = ("ABDM-1149", "Intent type is not supported at HIP end")
INVALID_HIP = ("ABDM-1035", "Invalid HIP ID")
INVALID_COUNTER = ("ABDM-1050", "Invalid Profile Share Metadata Keys")
NO_TOKEN_NOW = ("ABDM-9999", "HIP is unable to generate a token at this time. Please try again later.")
ABHA_DEACTIVATED = (
    "ABDM-1407",
    "The ABHA Number associated with this ABHA Address is currently deactivated. Please reactivate it.",
)
# What counter_for_scan's refusals mean to ABDM.
_REFUSAL_CODES = {
    "foreign_qr": INVALID_HIP,
    "unknown_facility": INVALID_HIP,
    "facility_not_verified": INVALID_HIP,
    "scan_incomplete": INVALID_COUNTER,
    "unknown_counter": INVALID_COUNTER,
    "counter_inactive": NO_TOKEN_NOW,
}


# --- The shared profile -----------------------------------------------------------------------------------


def _text(value, limit: int = 200) -> str:
    return str(value).strip()[:limit] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _number(value) -> int | None:
    text = _text(value, 4)
    return int(text) if text.isdecimal() else None


def _abha_number(patient: dict) -> str:
    digits = re.sub(r"[\s-]", "", _text(patient.get("abhaNumber"), 40))
    return digits if len(digits) == 14 and digits.isascii() and digits.isdecimal() else ""


def _mobile(patient: dict) -> str:
    digits = re.sub(r"\D", "", _text(patient.get("phoneNumber"), 20))
    return digits[-10:] if len(digits) >= 10 else ""


def _gender(patient: dict) -> str:
    gender = _text(patient.get("gender"), 1).upper()
    gender = GENDER_ALIASES.get(gender, gender)
    return gender if gender in Gender.values else Gender.UNDISCLOSED


def _age(year: int | None, month: int | None, day: int | None, today: datetime.date) -> int | None:
    if not year:
        return None
    month = month if month and 1 <= month <= 12 else 1
    day = day if day and 1 <= day <= 31 else 1
    return today.year - year - ((today.month, today.day) < (month, day))


def profile_from_abdm(patient: dict, *, today: datetime.date | None = None) -> dict:
    """The queue's profile (the keys of services.profile_snapshot) from the profile ABDM shared: name, ABHA number
    (shown NN-NNNN-NNNN-NNNN; empty for an address-only ABHA) and address, gender, year of birth and age, the mobile
    masked, the address. No query."""
    address = patient.get("address") if isinstance(patient.get("address"), dict) else {}
    year = _number(patient.get("yearOfBirth"))
    gender = _gender(patient)
    place = ", ".join(part for part in (_text(address.get(key), 300) for key in ("line", "district", "state")) if part)
    return {
        "name": _text(patient.get("name")),
        "abha_number": abha_number_display(_abha_number(patient)),
        "abha_address": _text(patient.get("abhaAddress"), 100).lower(),
        "gender": gender,
        "gender_display": str(Gender(gender).label),
        "year_of_birth": year,
        "age": _age(
            year,
            _number(patient.get("monthOfBirth")),
            _number(patient.get("dayOfBirth")),
            today or timezone.localdate(),
        ),
        "mobile": mask_mobile(_mobile(patient)),
        "address": f"{place} {_text(address.get('pincode'), 6)}".strip(),
    }


def _profile_for_copy(patient: dict, number: str) -> Profile:
    """An m1.Profile of what ABDM shared, for the portal's copy of the ABHA (abha.account_from_profile)."""
    names = _text(patient.get("name")).split()
    address = patient.get("address") if isinstance(patient.get("address"), dict) else {}
    local = _text(patient.get("abhaAddress"), 100).lower().partition("@")[0]
    return Profile(
        abha_number=number,
        first_name=names[0] if names else "",
        middle_name=" ".join(names[1:-1]),
        last_name=names[-1] if len(names) > 1 else "",
        gender=_text(patient.get("gender"), 1).upper(),
        year_of_birth=_number(patient.get("yearOfBirth")),
        month_of_birth=_number(patient.get("monthOfBirth")),
        day_of_birth=_number(patient.get("dayOfBirth")),
        mobile=_mobile(patient),
        address=_text(address.get("line"), 300),
        pincode=_text(address.get("pincode"), 6),
        state_name=_text(address.get("state")),
        district_name=_text(address.get("district")),
        preferred_address=local,
        addresses=(local,) if local else (),
    )


def sharer_account(patient: dict):
    """The portal's copy of the sharer's ABHA: found by ABHA number, else by address; made from what ABDM shared when
    ABDM gave a number the portal does not know (as a first sign-in does). None for an address-only ABHA the portal
    does not know, or a number deleted on the portal. Writes in the caller's transaction."""
    number = _abha_number(patient)
    account = account_by_identifier(number or _text(patient.get("abhaAddress"), 100))
    if account is None and number and _number(patient.get("yearOfBirth")):
        try:
            account, _created = account_from_profile(_profile_for_copy(patient, number))
        except Conflict:  # deleted on the portal (a tombstone): the share stands on the address alone
            return None
    return account


# --- The webhook ------------------------------------------------------------------------------------------


def on_share_body(*, request_id: str, token: ScanToken | None = None, abha_address: str = "", context: str = "",
                  error: tuple[str, str] | None = None) -> dict:  # fmt: skip
    """on-share's body: the token's acknowledgement, or the error; `response.requestId` is the share's REQUEST-ID."""
    if error is not None:
        return {"error": {"code": error[0], "message": error[1]}, "response": {"requestId": request_id}}
    expiry = max(0, int((token.valid_until - timezone.now()).total_seconds()))
    return {
        "acknowledgement": {
            "status": "SUCCESS",
            "abhaAddress": abha_address,
            "profile": {"context": context, "tokenNumber": str(token.number), "expiry": expiry},
        },
        "response": {"requestId": request_id},
    }


def _answer(request_id: str, body: dict, subject=None) -> None:
    outbox.enqueue(kind=ON_SHARE_KIND, method="POST", path=ON_SHARE_PATH, json=body, subject=subject)


def _refuse(request_id: str, error: tuple[str, str], *, hip_id: str, context: str, subject=None) -> None:
    """Answer on-share with ABDM's error (no token) and audit it; nothing about the patient is kept."""
    _answer(request_id, on_share_body(request_id=request_id, error=error), subject)
    audit_record(
        actor=None,
        action="scan_share.abdm_refused",
        target=subject,
        details={"request_id": request_id[:100], "facility": hip_id[:20], "counter": context[:30], "code": error[0]},
    )


def _header(headers: dict, name: str) -> str:
    wanted = name.lower()
    return next((str(value).strip() for key, value in headers.items() if key.lower() == wanted), "")


@transaction.atomic
def patient_share(request_id: str, body: dict, headers: dict) -> None:
    """The patient-share webhook: issue the token at the QR's counter and answer on-share (through the outbox, after
    the commit), or answer ABDM's error and issue nothing. Runs in the callback's transaction (abdm.callbacks: a
    replayed REQUEST-ID gets the stored answer and this does not run again)."""
    meta = body.get("metaData") if isinstance(body.get("metaData"), dict) else None
    profile = body.get("profile") if isinstance(body.get("profile"), dict) else {}
    patient = profile.get("patient") if isinstance(profile.get("patient"), dict) else None
    if meta is None or patient is None or not _text(patient.get("abhaAddress"), 100):
        raise DomainError("metaData and profile.patient with abhaAddress are required")
    abha_address = _text(patient.get("abhaAddress"), 100)
    context = _text(meta.get("context"), 250)
    hip_id = _text(meta.get("hipId"), 50).upper()
    header_hip = _header(headers, "X-HIP-ID").upper()
    if body.get("intent") != PROFILE_SHARE:
        return _refuse(request_id, INTENT_NOT_SUPPORTED, hip_id=hip_id, context=context)
    if header_hip and header_hip != hip_id:
        return _refuse(request_id, INVALID_HIP, hip_id=hip_id, context=context)
    try:
        counter = services.counter_for_scan(hip_id=hip_id, counter_code=context)
    except DomainError as refused:
        return _refuse(request_id, _REFUSAL_CODES.get(refused.code, NO_TOKEN_NOW), hip_id=hip_id, context=context)
    facility = counter.facility
    if context.upper() != counter.code or services.abdm_counter_code_problem(counter):
        return _refuse(request_id, INVALID_COUNTER, hip_id=hip_id, context=context, subject=facility)
    account = sharer_account(patient)
    if account is not None and account.status == AccountStatus.DEACTIVATED:
        return _refuse(request_id, ABHA_DEACTIVATED, hip_id=hip_id, context=context, subject=facility)
    if account is not None and account.status != AccountStatus.ACTIVE:
        account = None
    try:
        with transaction.atomic():
            token, created = services.abdm_token_issue(
                counter=counter,
                account=account,
                profile=profile_from_abdm(patient),
                abha_address=abha_address,
                request_id=request_id,
            )
    except DomainError as refused:  # the counter closed a moment ago
        return _refuse(request_id, _REFUSAL_CODES.get(refused.code, NO_TOKEN_NOW), hip_id=hip_id, context=context,
                       subject=facility)  # fmt: skip
    answer = on_share_body(request_id=request_id, token=token, abha_address=abha_address, context=context)
    _answer(request_id, answer, subject=token)
    log.info("ABDM share request_id=%s: token %s at %s/%s (%s)", request_id, token.number, hip_id, counter.code,
             "new" if created else "repeat")  # fmt: skip
    return None


def register() -> None:
    """From ScanshareConfig.ready(): the gateway's patient-share callbacks come here."""
    callbacks.register_callback(SHARE_WEBHOOK, patient_share)
