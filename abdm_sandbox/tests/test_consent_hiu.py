"""The sandbox's built-in HIU (/sandbox/v1/hiu/...), used to test an HIP: its consent request, its pull with fresh
Fidelius keys through the consent manager, and its checks of what the HIP pushes (decryption, FHIR R4, ABDM's
document bundle rules, the patient's ABHA). The HIP here is the test itself, encrypting with the portal's Fidelius
(abdm/fidelius.py), so the two implementations meet over HTTP."""

import datetime
import hashlib
import json
import uuid

import pytest
import requests

from abdm import fidelius as portal_fidelius

from .test_consent import HIP_ON_REQUEST, Network

NRCES = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/"


@pytest.fixture
def network(sandbox):
    net = Network(sandbox)
    try:
        yield net
    finally:
        net.close()


def _document(network: Network, *, patient_identifiers=None, composition_first=True) -> dict:
    identifiers = patient_identifiers
    if identifiers is None:
        number = network.abha_number
        identifiers = [
            {
                "system": "https://healthid.abdm.gov.in",
                "value": f"{number[:2]}-{number[2:6]}-{number[6:10]}-{number[10:]}",
            },
            {"system": "https://healthid.abdm.gov.in", "value": network.patient},
        ]
    composition = {
        "fullUrl": "urn:uuid:0b0b9a8e-3c1e-4d53-9f7e-000000000001",
        "resource": {
            "resourceType": "Composition",
            "id": "0b0b9a8e-3c1e-4d53-9f7e-000000000001",
            "meta": {"profile": [NRCES + "OPConsultRecord"]},
            "status": "final",
            "type": {"coding": [{"system": "http://snomed.info/sct", "code": "371530004"}], "text": "OP Consultation"},
            "subject": {"reference": "urn:uuid:0b0b9a8e-3c1e-4d53-9f7e-000000000002"},
            "date": "2025-06-01T10:00:00+05:30",
            "author": [{"reference": "urn:uuid:0b0b9a8e-3c1e-4d53-9f7e-000000000003"}],
            "title": "OP Consultation",
        },
    }
    patient = {
        "fullUrl": "urn:uuid:0b0b9a8e-3c1e-4d53-9f7e-000000000002",
        "resource": {
            "resourceType": "Patient",
            "id": "0b0b9a8e-3c1e-4d53-9f7e-000000000002",
            "meta": {"profile": [NRCES + "Patient"]},
            "identifier": identifiers,
            "name": [{"text": "Meena Patel"}],
        },
    }
    practitioner = {
        "fullUrl": "urn:uuid:0b0b9a8e-3c1e-4d53-9f7e-000000000003",
        "resource": {
            "resourceType": "Practitioner",
            "id": "0b0b9a8e-3c1e-4d53-9f7e-000000000003",
            "name": [{"text": "Dr. Rao"}],
        },
    }
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [NRCES + "DocumentBundle"]},
        "identifier": {"system": "https://hospital.example/documents", "value": str(uuid.uuid4())},
        "type": "document",
        "timestamp": "2025-06-01T10:05:00+05:30",
        "entry": [composition, patient, practitioner] if composition_first else [patient, composition, practitioner],
    }


def _pull(network: Network, **consent) -> tuple[str, str, dict]:
    """The built-in HIU asks for consent (granted by the helper) and then for the data: (artefact ID, transaction
    ID, the request the HIP received)."""
    made = network.sandbox.post(
        "hiu/consent-requests",
        json={
            "patient": network.patient,
            "hip": {"id": network.hip_id, "name": "Consent Test Hospital"},
            "careContexts": [{"patientReference": "PAT-1", "careContextReference": "OPD-1"}],
            "hiTypes": ["OPConsultation"],
            **consent,
        },
    )
    assert made.status_code == 201, made.text
    [artefact_id] = network.grant(made.json()["consentRequestId"])
    network.hip_notifications(artefact_id, "GRANTED")
    started = network.sandbox.post("hiu/fetch", json={"consentArtefactId": artefact_id})
    assert started.status_code == 202, started.text
    transaction_id = started.json()["transactionId"]
    found = [
        item
        for item in network.hip_server.wait("/api/v3/hip/health-information/request")
        if item["body"]["transactionId"] == transaction_id
    ]
    assert found
    return artefact_id, transaction_id, found[0]


def _push(network: Network, hip_request: dict, bundles: dict[str, str], *, sender=None) -> requests.Response:
    """As the HIP: acknowledge, encrypt each bundle for the HIU's key (the portal's Fidelius), push."""
    hi_request = hip_request["body"]["hiRequest"]
    acked = network.hip.call(
        "POST",
        HIP_ON_REQUEST,
        json={
            "hiRequest": {"transactionId": hip_request["body"]["transactionId"], "sessionStatus": "ACKNOWLEDGED"},
            "response": {"requestId": hip_request["headers"]["REQUEST-ID"]},
        },
    )
    assert acked.status_code == 202, acked.text
    hip = sender or portal_fidelius.generate_key_material()
    requester = hi_request["keyMaterial"]
    entries = [
        {
            "content": portal_fidelius.encrypt(
                text,
                sender_private_key=hip.private_key,
                sender_nonce=hip.nonce,
                requester_public_key=requester["dhPublicKey"]["keyValue"],
                requester_nonce=requester["nonce"],
            ),
            "media": "application/fhir+json",
            "checksum": hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
            "careContextReference": reference,
        }
        for reference, text in bundles.items()
    ]
    expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    body = {
        "pageNumber": 1,
        "pageCount": 1,
        "transactionId": hip_request["body"]["transactionId"],
        "entries": entries,
        "keyMaterial": {
            "cryptoAlg": "ECDH",
            "curve": "Curve25519",
            "dhPublicKey": {
                "expiry": expiry.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "parameters": "Curve25519/32byte random key",
                "keyValue": hip.public_key,
            },
            "nonce": hip.nonce,
        },
    }
    return requests.post(hi_request["dataPushUrl"], json=body, timeout=30)


def test_the_builtin_hiu_pulls_decrypts_and_accepts_a_good_document(network):
    artefact_id, transaction_id, hip_request = _pull(network)
    hi_request = hip_request["body"]["hiRequest"]
    assert hi_request["dataPushUrl"] == network.sandbox.url + "/sandbox/v1/hiu/data-push"
    assert hi_request["consent"]["id"] == artefact_id
    key = hi_request["keyMaterial"]
    assert key["cryptoAlg"] == "ECDH" and key["dhPublicKey"]["keyValue"].startswith("B")
    pushed = _push(network, hip_request, {"OPD-1": json.dumps(_document(network))})
    assert pushed.status_code == 202, pushed.text
    assert pushed.json()["acknowledgement"] == [{"careContextReference": "OPD-1", "status": "OK"}]
    outcome = network.sandbox.get(f"hiu/fetch/{transaction_id}").json()
    assert outcome["hiuStatus"] == "RECEIVED"
    [result] = outcome["careContexts"]
    assert result["status"] == "OK", result
    assert result["problems"] == [] and result["warnings"] == []
    assert result["resourceTypes"] == ["Composition", "Patient", "Practitioner"]
    assert outcome["notifications"][-1]["notifier"]["type"] == "HIU"


def test_the_builtin_hiu_refuses_bad_documents_and_says_why(network):
    _, transaction_id, hip_request = _pull(network)
    other_person = [{"system": "https://healthid.abdm.gov.in", "value": "91-0000-0000-0000"}]
    bundles = {
        "OPD-1": json.dumps(_document(network, composition_first=False)),
        "OPD-9": json.dumps(_document(network, patient_identifiers=other_person)),
    }
    pushed = _push(network, hip_request, bundles)
    assert pushed.status_code == 202
    outcome = network.sandbox.get(f"hiu/fetch/{transaction_id}").json()
    assert outcome["hiuStatus"] == "FAILED"
    first, second = outcome["careContexts"]
    assert first["status"] == "ERRORED"
    assert "the first entry must be the Composition" in first["problems"]
    assert second["status"] == "ERRORED"
    assert "this care context is not in the consent artefact" in second["problems"]
    assert any("ABHA" in problem for problem in second["problems"])


def test_data_the_hiu_cannot_decrypt_is_errored(network):
    _, transaction_id, hip_request = _pull(network)
    hi_request = hip_request["body"]["hiRequest"]
    # Encrypted for another key than the HIU's: the tag does not authenticate.
    stranger = portal_fidelius.generate_key_material()
    hip_request["body"]["hiRequest"] = {
        **hi_request,
        "keyMaterial": {**hi_request["keyMaterial"], "dhPublicKey": {"keyValue": stranger.public_key}},
    }
    pushed = _push(network, hip_request, {"OPD-1": json.dumps(_document(network))})
    assert pushed.status_code == 202
    [result] = network.sandbox.get(f"hiu/fetch/{transaction_id}").json()["careContexts"]
    assert result["status"] == "ERRORED"
    assert result["problems"][0].startswith("decryption")


def test_a_push_for_an_unknown_transaction_is_refused(network):
    answer = requests.post(
        network.sandbox.url + "/sandbox/v1/hiu/data-push",
        json={
            "transactionId": str(uuid.uuid4()),
            "entries": [],
            "keyMaterial": {
                "cryptoAlg": "ECDH",
                "curve": "Curve25519",
                "dhPublicKey": {"expiry": "", "parameters": "", "keyValue": "x"},
                "nonce": "y",
            },
        },
        timeout=10,
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "ABDM-1017"


def test_the_builtin_hiu_cannot_pull_under_a_revoked_artefact(network):
    made = network.sandbox.post(
        "hiu/consent-requests",
        json={
            "patient": network.patient,
            "hip": {"id": network.hip_id, "name": "Consent Test Hospital"},
            "careContexts": [{"patientReference": "PAT-1", "careContextReference": "OPD-1"}],
        },
    )
    [artefact_id] = network.grant(made.json()["consentRequestId"])
    assert network.sandbox.post(f"app/artefacts/{artefact_id}/revoke", json={}).status_code == 200
    refused = network.sandbox.post("hiu/fetch", json={"consentArtefactId": artefact_id})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "ABDM-1062"
