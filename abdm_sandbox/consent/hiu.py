"""The sandbox's built-in HIU, for tests of an HIP (sandbox-only helpers under /sandbox/v1/hiu/):

POST hiu/consent-requests {patient, hiTypes?, purpose?, hip?{id,name}, careContexts?, dateRange?, dataEraseAt?,
                           accessMode?}        a consent request from the HIU `sandbox-hiu` -> {consentRequestId}
POST hiu/fetch {consentArtefactId}   a fresh Curve25519 key pair and nonce (abdm_sandbox.fidelius), then the
                                     health-information request through the consent manager to the HIP, with
                                     dataPushUrl <sandbox>/sandbox/v1/hiu/data-push -> {transactionId}
POST hiu/data-push                   where the HIP pushes: each entry decrypted and checked (FHIR R4 with
                                     fhir.resources' R4B models; an ABDM document bundle), 202
GET  hiu/fetch/{transactionId}       the outcome per care context
"""

import datetime
import json
import re
import uuid

from django.conf import settings
from django.db import transaction
from pydantic import ValidationError

from .. import fidelius
from ..errors import abdm_error
from ..http import api_view, json_body, ok
from . import schemas, services
from .models import ArtefactStatus, ConsentArtefact, HiuFetch

NRCES = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/"
DOCUMENT_BUNDLE_PROFILE = NRCES + "DocumentBundle"
MAX_PROBLEMS = 10


@api_view("POST")
def consent_requests(request):
    """A consent request from the built-in HIU, with defaults for whatever is not given."""
    body = json_body(request)
    patient = body.get("patient")
    if not isinstance(patient, str) or services.account_for(patient) is None:
        return abdm_error(400, "ABDM-1170", "Invalid ABHA address: patient must be an ABHA address the sandbox knows")
    moment = services.now()
    purpose = body.get("purpose") or "CAREMGT"
    consent = {
        "purpose": {"code": purpose, "text": schemas.PURPOSES.get(purpose, purpose), "refUri": "https://abdm.gov.in"},
        "patient": {"id": patient.strip().lower()},
        "hiu": {"id": services.BUILTIN_HIU_ID, "name": services.BUILTIN_HIU_NAME, "type": "HIU"},
        "requester": {
            "name": "Dr. Sandbox Tester",
            "identifier": {"value": "SBX-0001", "type": "REGNO", "system": "https://www.mciindia.org"},
        },
        "hiTypes": body.get("hiTypes") or list(schemas.HI_TYPES),
        "permission": {
            "accessMode": body.get("accessMode") or "VIEW",
            "dateRange": body.get("dateRange") or {"from": "2000-01-01T00:00:00.000Z", "to": services.iso(moment)},
            "dataEraseAt": body.get("dataEraseAt") or services.iso(moment + datetime.timedelta(days=1)),
            "frequency": {"unit": "HOUR", "value": 1, "repeats": 0},
        },
    }
    if body.get("hip"):
        consent["hip"] = body["hip"]
    if body.get("careContexts"):
        consent["careContexts"] = body["careContexts"]
    problems = services.validate_consent(consent)
    if problems:
        return abdm_error(400, "ABDM-9999", "; ".join(problems))
    created = services.consent_request_create(consent_body=consent, hiu_bridge="", init_request_id=str(uuid.uuid4()))
    if created is None:
        return abdm_error(400, "ABDM-1035", "Invalid HIP ID: the sandbox knows no bridge serving that HIP")
    return ok({"consentRequestId": str(created.consent_request_id)}, status=201)


@api_view("POST")
def fetch(request):
    """Pull an artefact's data as the built-in HIU."""
    body = json_body(request)
    try:
        artefact_id = uuid.UUID(str(body.get("consentArtefactId")))
    except ValueError:
        return abdm_error(400, "ABDM-1006", "consentArtefactId must be a UUID")
    artefact = (
        ConsentArtefact.objects.select_related("consent_request")
        .filter(artefact_id=artefact_id, consent_request__hiu_bridge="")
        .first()
    )
    if artefact is None:
        return abdm_error(404, "ABDM-1001", "No artefact of the sandbox's HIU with that ID")
    keys = fidelius.new_key_pair()
    moment = services.now()
    hi_request = {
        "consent": {"id": str(artefact.artefact_id)},
        "dateRange": {"from": services.iso(artefact.date_from), "to": services.iso(artefact.date_to)},
        "dataPushUrl": f"{settings.SANDBOX_URL}/sandbox/v1/hiu/data-push",
        "keyMaterial": {
            "cryptoAlg": fidelius.CRYPTO_ALG,
            "curve": fidelius.CURVE,
            "dhPublicKey": {
                "expiry": services.iso(moment + datetime.timedelta(hours=1)),
                "parameters": fidelius.PARAMETERS,
                "keyValue": keys.public_key,
            },
            "nonce": keys.nonce,
        },
    }
    with transaction.atomic():
        transfer, refusal = services.health_information_request(
            hi_request=hi_request,
            hiu_id=artefact.consent_request.hiu_id,
            hiu_bridge="",
            request_id=str(uuid.uuid4()),
        )
        if refusal is not None:
            return abdm_error(409, refusal[0], refusal[1])
        HiuFetch.objects.create(
            transfer=transfer, private_key=str(keys.private_key), public_key=keys.public_key, nonce=keys.nonce
        )
    return ok({"transactionId": str(transfer.transaction_id), "dataPushUrl": hi_request["dataPushUrl"]}, status=202)


def _references(value, found: list[str]) -> list[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                found.append(item)
            else:
                _references(item, found)
    elif isinstance(value, list):
        for item in value:
            _references(item, found)
    return found


def _profiles(resource: dict) -> list[str]:
    meta = resource.get("meta") if isinstance(resource.get("meta"), dict) else {}
    return [p for p in meta.get("profile") or [] if isinstance(p, str)]


def document_problems(bundle, *, abha_address: str, abha_number: str) -> list[str]:
    """Why `bundle` is not an ABDM document bundle for this patient (empty: it is): FHIR R4 structure, type
    document with NRCES's DocumentBundle profile and an identifier, a Composition first with an NRCES profile,
    references that resolve inside the bundle, and a Patient carrying the patient's ABHA address or number."""
    from fhir.resources.R4B.bundle import Bundle  # noqa: PLC0415 - loaded only when a push arrives

    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return ["resourceType must be Bundle"]
    problems = []
    try:
        Bundle.model_validate(bundle)
    except ValidationError as error:
        problems += [f"FHIR: {'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()[:5]]
    except (KeyError, TypeError, ValueError) as error:
        problems.append(f"FHIR: {str(error)[:200]}")
    if bundle.get("type") != "document":
        problems.append("Bundle.type must be document")
    if DOCUMENT_BUNDLE_PROFILE not in _profiles(bundle):
        problems.append(f"Bundle.meta.profile must name {DOCUMENT_BUNDLE_PROFILE}")
    identifier = bundle.get("identifier") if isinstance(bundle.get("identifier"), dict) else {}
    if not (identifier.get("system") and identifier.get("value")):
        problems.append("Bundle.identifier needs a system and a value")
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    if not entries or entries[0]["resource"].get("resourceType") != "Composition":
        return [*problems, "the first entry must be the Composition"]
    composition = entries[0]["resource"]
    if not any(p.startswith(NRCES) for p in _profiles(composition)):
        problems.append("Composition.meta.profile must be an NRCES profile")
    targets = {}
    for entry in entries:
        resource = entry["resource"]
        if entry.get("fullUrl"):
            targets[entry["fullUrl"]] = resource
        if resource.get("id"):
            targets[f"{resource.get('resourceType')}/{resource['id']}"] = resource
    for reference in _references([e["resource"] for e in entries], []):
        if not reference.startswith("#") and reference not in targets:
            problems.append(f"reference {reference} does not resolve inside the bundle")
            break
    subject = (
        (composition.get("subject") or {}).get("reference") if isinstance(composition.get("subject"), dict) else None
    )
    patient = targets.get(subject or "")
    if not patient or patient.get("resourceType") != "Patient":
        return [*problems, "Composition.subject must reference the Patient in the bundle"][:MAX_PROBLEMS]
    values = [str(i.get("value") or "").strip() for i in patient.get("identifier") or [] if isinstance(i, dict)]
    addresses = [v.lower() for v in values if "@" in v]
    numbers = [re.sub(r"[\s-]", "", v) for v in values if re.fullmatch(r"[\d\s-]{14,20}", v)]
    if abha_address.lower() not in addresses and abha_number not in numbers:
        problems.append("the Patient does not carry the patient's ABHA address or number")
    if any(n != abha_number for n in numbers if len(n) == 14) or any(
        a != abha_address.lower() and a.endswith(("@sbx", "@abdm")) for a in addresses
    ):
        problems.append("the Patient carries another person's ABHA identifier")
    return problems[:MAX_PROBLEMS]


def _entry_result(entry: dict, *, fetch_row: HiuFetch, key_material: dict, artefact, account) -> dict:
    reference = entry["careContextReference"]
    result = {"careContextReference": reference, "status": "OK", "problems": [], "warnings": []}
    granted = {c["careContextReference"] for c in artefact.care_contexts}
    if reference not in granted:
        result["problems"].append("this care context is not in the consent artefact")
    if not entry.get("content"):
        result["problems"].append("only inline content is read (no link)")
        result["status"] = "ERRORED"
        return result
    try:
        plaintext = fidelius.decrypt(
            entry["content"],
            private_key=int(fetch_row.private_key),
            nonce=fetch_row.nonce,
            peer_public_key=key_material["dhPublicKey"]["keyValue"],
            peer_nonce=key_material["nonce"],
        )
    except fidelius.FideliusError as error:
        result["problems"].append(f"decryption: {error}")
        result["status"] = "ERRORED"
        return result
    if not services.checksum_matches(plaintext, entry.get("checksum") or ""):
        result["warnings"].append("checksum is not the MD5 of the decrypted content (hex or base64)")
    try:
        bundle = json.loads(plaintext)
    except ValueError:
        result["problems"].append("the content is not JSON")
        result["status"] = "ERRORED"
        return result
    result["problems"] += document_problems(
        bundle, abha_address=artefact.consent_request.patient, abha_number=account.abha_number if account else ""
    )
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    result["resourceTypes"] = sorted(
        {
            e["resource"].get("resourceType")
            for e in entries or []
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        }
    )
    if result["problems"]:
        result["status"] = "ERRORED"
    return result


@api_view("POST")
def data_push(request):
    """The dataPushUrl of the built-in HIU: the HIP's encrypted entries, decrypted and checked; the HIU's
    notification (RECEIVED, or FAILED with ERRORED care contexts) recorded on the transaction."""
    body = json_body(request)
    problems = services.schema_problems(schemas.DATA_PUSH, body)
    if problems:
        return abdm_error(400, "ABDM-1006", "; ".join(problems))
    transfer = services.transfer_for(body["transactionId"])
    fetch_row = HiuFetch.objects.filter(transfer=transfer).first() if transfer else None
    if fetch_row is None:
        return abdm_error(404, "ABDM-1017", "Invalid TransactionId")
    artefact = transfer.artefact
    if artefact.status != ArtefactStatus.GRANTED:
        return abdm_error(400, "ABDM-1062", "Consent Not granted")
    account = services.account_for(artefact.consent_request.patient)
    results = [
        _entry_result(entry, fetch_row=fetch_row, key_material=body["keyMaterial"], artefact=artefact, account=account)
        for entry in body["entries"]
    ]
    with transaction.atomic():
        locked = HiuFetch.objects.select_for_update().get(pk=fetch_row.pk)
        locked.results = [*locked.results, *results]
        locked.pushes += 1
        failed = any(item["status"] != "OK" for item in locked.results)
        locked.status = "FAILED" if failed else "RECEIVED"
        locked.save(update_fields=["results", "pushes", "status", "updated_at"])
        notification = {
            "consentId": str(artefact.artefact_id),
            "transactionId": str(transfer.transaction_id),
            "doneAt": services.iso(services.now()),
            "notifier": {"type": "HIU", "id": transfer.hiu_id},
            "statusNotification": {
                "sessionStatus": locked.status,
                "hipId": artefact.hip_id,
                "statusResponses": [
                    {
                        "careContextReference": item["careContextReference"],
                        "hiStatus": item["status"],
                        "description": "; ".join(item["problems"])[:255] or "Data received successfully",
                    }
                    for item in results
                ],
            },
        }
        services.transfer_notified(transfer=transfer, notification=notification)
    return ok(
        {
            "acknowledgement": [
                {"careContextReference": r["careContextReference"], "status": r["status"]} for r in results
            ]
        },
        status=202,
    )


@api_view("GET")
def fetch_outcome(request, transaction_id):
    transfer = services.transfer_for(transaction_id)
    fetch_row = HiuFetch.objects.filter(transfer=transfer).first() if transfer else None
    if fetch_row is None:
        return abdm_error(404, "ABDM-1001", "No fetch of the sandbox's HIU with that transaction ID")
    return ok(
        {
            "transactionId": str(transfer.transaction_id),
            "consentArtefactId": str(transfer.artefact.artefact_id),
            "hipId": transfer.artefact.hip_id,
            "status": transfer.status,
            "hipSessionStatus": transfer.hip_session_status or None,
            "hiuStatus": fetch_row.status,
            "pushes": fetch_row.pushes,
            "careContexts": fetch_row.results,
            "notifications": transfer.notifications,
        }
    )
