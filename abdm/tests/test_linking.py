"""The M2 linking bodies (abdm.linking) against the request schemas of NHA's hiecm-m2.yaml, written here from the
published file: required fields, types and enums."""

import jsonschema
import pytest

from abdm import linking as m2

HI_TYPE = {"type": "string", "enum": list(m2.HI_TYPES)}
CARE_CONTEXT = {
    "type": "object",
    "required": ["referenceNumber", "display"],
    "properties": {"referenceNumber": {"type": "string"}, "display": {"type": "string"}},
}
ENTRY = {  # PatientCareContextEntry
    "type": "object",
    "required": ["referenceNumber", "display", "careContexts", "hiType", "count"],
    "properties": {
        "referenceNumber": {"type": "string"},
        "display": {"type": "string"},
        "careContexts": {"type": "array", "items": CARE_CONTEXT},
        "hiType": {"type": "array", "items": HI_TYPE},
        "count": {"type": "integer", "minimum": 1, "maximum": 20},
    },
}
RESPONSE = {"type": "object", "required": ["requestId"], "properties": {"requestId": {"type": "string"}}}
GENERATE_LINK_TOKEN = {
    "type": "object",
    "required": ["abhaAddress", "name", "gender", "yearOfBirth"],
    "properties": {
        "abhaNumber": {"type": "integer"},
        "abhaAddress": {"type": "string"},
        "name": {"type": "string"},
        "gender": {"type": "string", "enum": ["M", "F", "O"]},
        "yearOfBirth": {"type": "integer"},
    },
}
LINK_CARE_CONTEXT = {
    "type": "object",
    "required": ["abhaAddress", "patient"],
    "properties": {
        "abhaNumber": {"type": "string"},
        "abhaAddress": {"type": "string"},
        "patient": {"type": "array", "items": ENTRY},
    },
}
CONTEXT_NOTIFY = {
    "type": "object",
    "required": ["notification"],
    "properties": {
        "notification": {
            "type": "object",
            "required": ["patient", "careContext", "hiTypes", "date", "hip"],
            "properties": {
                "patient": {"type": "object", "properties": {"id": {"type": "string"}}},
                "careContext": {
                    "type": "object",
                    "properties": {"patientReference": {"type": "string"}, "careContextReference": {"type": "string"}},
                },
                "hiTypes": {"type": "array", "items": HI_TYPE},
                "date": {"type": "string", "format": "date-time"},
                "hip": {
                    "type": "object",
                    "required": ["id", "name", "type"],
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"}},
                },
            },
        }
    },
}
ON_DISCOVER = {
    "type": "object",
    "required": ["transactionId", "patient", "response"],
    "properties": {
        "transactionId": {"type": "string"},
        "patient": {"type": "array", "items": ENTRY},
        "response": RESPONSE,
    },
}
ON_INIT = {
    "type": "object",
    "required": ["transactionId", "link", "response"],
    "properties": {
        "transactionId": {"type": "string"},
        "link": {
            "type": "object",
            "required": ["referenceNumber", "authenticationType", "meta"],
            "properties": {
                "referenceNumber": {"type": "string"},
                "authenticationType": {"type": "string", "enum": ["DIRECT", "MEDIATED"]},
                "meta": {
                    "type": "object",
                    "properties": {
                        "communicationMedium": {"type": "string", "enum": ["MOBILE", "EMAIL"]},
                        "communicationHint": {"type": "string"},
                        "communicationExpiry": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
        "response": RESPONSE,
    },
}
ON_CONFIRM = {
    "type": "object",
    "required": ["patient", "response"],
    "properties": {"patient": {"type": "array", "items": ENTRY}, "response": RESPONSE},
}


def _entry(count=2):
    return m2.care_context_entry(
        patient_reference="p-1",
        patient_display="Asha Patel",
        care_contexts=[{"referenceNumber": f"V-{n}", "display": f"OPD visit {n}"} for n in range(count)],
        hi_types={"Prescription", "OPConsultation", "NotAType"},
    )


def test_the_link_token_request_is_the_specs_with_the_abha_number_as_an_integer():
    body = m2.link_token_body(
        abha_number="91-1234-5678-9012", abha_address="asha@sbx", name="Asha Patel", gender="F", year_of_birth=1990
    )
    jsonschema.validate(body, GENERATE_LINK_TOKEN)
    assert body["abhaNumber"] == 91123456789012
    unknown_gender = m2.link_token_body(abha_number="", abha_address="a@sbx", name="A", gender="U", year_of_birth=1)
    assert unknown_gender["gender"] == "O" and "abhaNumber" not in unknown_gender


def test_a_care_context_link_carries_one_to_twenty_care_contexts_with_their_count():
    body = m2.link_care_context_body(abha_number="91123456789012", abha_address="asha@sbx", entry=_entry(20))
    jsonschema.validate(body, LINK_CARE_CONTEXT)
    assert body["abhaNumber"] == "91123456789012"
    assert body["patient"][0]["count"] == 20 and body["patient"][0]["hiType"] == ["OPConsultation", "Prescription"]
    for count in (0, 21):
        with pytest.raises(ValueError):
            _entry(count)


def test_the_context_notify_names_one_care_context_and_the_hip():
    body = m2.context_notify_body(
        abha_address="asha@sbx",
        patient_reference="p-1",
        care_context_reference="V-1",
        hi_types=["Prescription"],
        date="2026-12-03T00:00:00.000Z",
        hip_id="IN2410000123",
        hip_name="Sir T General Hospital",
    )
    jsonschema.validate(body, CONTEXT_NOTIFY)
    assert body["notification"]["hip"] == {"id": "IN2410000123", "name": "Sir T General Hospital", "type": "HIP"}


def test_the_user_initiated_answers_echo_the_webhooks_request():
    discover = m2.on_discover_body(transaction_id="t-1", request_id="r-1", entries=[_entry()])
    jsonschema.validate(discover, ON_DISCOVER)
    assert discover["response"] == {"requestId": "r-1"}
    jsonschema.validate(m2.on_discover_body(transaction_id="t-1", request_id="r-1", entries=[]), ON_DISCOVER)
    init = m2.on_init_body(
        transaction_id="t-1", request_id="r-2", link_reference="l-1", hint="XXXXXX7890", expiry="2026-12-03T10:10:00Z"
    )
    jsonschema.validate(init, ON_INIT)
    confirm = m2.on_confirm_body(request_id="r-3", entries=[_entry(1)])
    jsonschema.validate(confirm, ON_CONFIRM)
    refused = m2.on_confirm_body(request_id="r-3", entries=[], error={"code": "ABDM-1006", "message": "Invalid OTP"})
    jsonschema.validate(refused, ON_CONFIRM)
