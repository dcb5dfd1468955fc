"""JSON Schemas of the M2 bodies the sandbox accepts and sends, written from NHA's hiecm-m2.yaml (components) and
the raw drops it cites (.raw/nha-2026-09-16/hiecm/link-token.yaml, hip-initiated-linking.yaml,
user-initiated-linking.yaml, patient-share.yaml). Pure data: tests import it too.

Where the drops and hiecm-m2.yaml differ, accepted bodies take both spellings and sent bodies follow
hiecm-m2.yaml:
- a link entry's health-information types: `hiType` (array, hiecm-m2.yaml) or `hiTypes` (a string,
  hip-initiated-linking.yaml); `abhaNumber` of a link request a string (hiecm-m2.yaml) or a number (the drop);
- on-discover's `matchedBy` (required by the drop, absent from hiecm-m2.yaml) is optional.
"""

HI_TYPES = [
    "Prescription",
    "DiagnosticReport",
    "OPConsultation",
    "DischargeSummary",
    "ImmunizationRecord",
    "HealthDocumentRecord",
    "WellnessRecord",
    "Invoice",
]
MAX_CARE_CONTEXTS = 20  # ABDM-1006 "Invalid count, must be 2 digit and ranges between 1 to 20"
ABHA_ADDRESS_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.\-]*[a-zA-Z0-9]@(abdm|sbx)$"
CODE = {"type": "string", "pattern": r"^(ABDM-\d{4}|\d{3,6})(: )?$"}
ERROR_OBJECT = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": CODE, "message": {"type": "string"}},
}
CALLBACK_RESPONSE = {
    "type": "object",
    "required": ["requestId"],
    "properties": {"requestId": {"type": "string", "minLength": 1}},
}
HI_TYPE = {"enum": HI_TYPES}
TEXT = {"type": "string", "minLength": 1, "maxLength": 255}
CARE_CONTEXT = {
    "type": "object",
    "required": ["referenceNumber", "display"],
    "properties": {"referenceNumber": TEXT, "display": {"type": "string", "maxLength": 255}},
}

# --- accepted --------------------------------------------------------------------------------------------------

# GenerateLinkTokenRequest (m2_generate_link_token)
GENERATE_LINK_TOKEN = {
    "type": "object",
    "required": ["abhaAddress", "name", "gender", "yearOfBirth"],
    "properties": {
        "abhaNumber": {"type": ["integer", "null"], "minimum": 10**13, "maximum": 10**14 - 1},
        "abhaAddress": {"type": "string", "pattern": ABHA_ADDRESS_PATTERN},
        "name": {"type": "string", "minLength": 1, "maxLength": 300},
        # hiecm-m2.yaml: M, F, O; link-token.yaml "Allows M, F, O, D, T, U"
        "gender": {"enum": ["M", "F", "O", "D", "T", "U"]},
        "yearOfBirth": {"type": "integer", "minimum": 1900, "maximum": 2200},
    },
}

# PatientCareContextEntry of HIPLinkCareContextRequest
LINK_ENTRY = {
    "type": "object",
    "required": ["referenceNumber", "display", "careContexts", "count"],
    "properties": {
        "referenceNumber": TEXT,
        "display": {"type": "string", "maxLength": 255},
        "careContexts": {"type": "array", "minItems": 1, "maxItems": MAX_CARE_CONTEXTS, "items": CARE_CONTEXT},
        "hiType": {"anyOf": [{"type": "array", "minItems": 1, "items": HI_TYPE}, HI_TYPE]},
        "hiTypes": {"anyOf": [{"type": "array", "minItems": 1, "items": HI_TYPE}, HI_TYPE]},
        "count": {"type": "integer", "minimum": 1, "maximum": MAX_CARE_CONTEXTS},
    },
    "anyOf": [{"required": ["hiType"]}, {"required": ["hiTypes"]}],
}
# HIPLinkCareContextRequest (m2_hip_link_care_context). ABDM names no limit on entries per call; the sandbox takes
# up to MAX_LINK_ENTRIES (each of 1 to 20 care contexts).
MAX_LINK_ENTRIES = 50
LINK_CARE_CONTEXT = {
    "type": "object",
    "required": ["abhaAddress", "patient"],
    "properties": {
        "abhaNumber": {
            "anyOf": [
                {"type": "string", "pattern": r"^(\d{14}|\d{2}-\d{4}-\d{4}-\d{4})$"},
                {"type": "integer", "minimum": 10**13, "maximum": 10**14 - 1},
                {"type": "null"},
            ]
        },
        "abhaAddress": {"type": "string", "pattern": ABHA_ADDRESS_PATTERN},
        "patient": {"type": "array", "minItems": 1, "maxItems": MAX_LINK_ENTRIES, "items": LINK_ENTRY},
    },
}

# LinkCareContextNotifyRequest (m2_link_care_context_notify)
CONTEXT_NOTIFY = {
    "type": "object",
    "required": ["notification"],
    "properties": {
        "notification": {
            "type": "object",
            "required": ["patient", "careContext", "hiTypes", "date", "hip"],
            "properties": {
                "patient": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
                "careContext": {
                    "type": "object",
                    "required": ["patientReference", "careContextReference"],
                    "properties": {"patientReference": TEXT, "careContextReference": TEXT},
                },
                "hiTypes": {"type": "array", "minItems": 1, "items": HI_TYPE},
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

# PatientCareContextEntry as the HIP answers discovery and confirmation with it
ANSWER_ENTRY = {
    "type": "object",
    "required": ["referenceNumber", "display", "careContexts", "hiType", "count"],
    "properties": {
        "referenceNumber": TEXT,
        "display": {"type": "string", "maxLength": 255},
        "careContexts": {"type": "array", "items": CARE_CONTEXT},
        "hiType": {"anyOf": [{"type": "array", "items": HI_TYPE}, HI_TYPE]},
        "count": {"type": "integer", "minimum": 0},
    },
}
# OnDiscoverRequest (m2_on_discover_care_contexts): `patient` may be empty (nothing found), or an `error` given.
ON_DISCOVER = {
    "type": "object",
    "required": ["transactionId", "response"],
    "properties": {
        "transactionId": {"type": "string"},
        "patient": {"type": "array", "items": ANSWER_ENTRY},
        "matchedBy": {"type": "array", "items": {"enum": ["MR", "MOBILE", "ABHA_NUMBER", "ABHA_ADDRESS", "EMAIL"]}},
        "error": ERROR_OBJECT,
        "response": CALLBACK_RESPONSE,
    },
    "anyOf": [{"required": ["patient"]}, {"required": ["error"]}],
}
# OnLinkInitRequest (m2_receive_link_init)
ON_LINK_INIT = {
    "type": "object",
    "required": ["transactionId", "response"],
    "properties": {
        "transactionId": {"type": "string"},
        "link": {
            "type": "object",
            "required": ["referenceNumber", "authenticationType", "meta"],
            "properties": {
                "referenceNumber": {"type": "string", "minLength": 1},
                "authenticationType": {"enum": ["DIRECT", "MEDIATED"]},
                "meta": {
                    "type": "object",
                    "properties": {
                        "communicationMedium": {"enum": ["MOBILE", "EMAIL"]},
                        "communicationHint": {"type": "string"},
                        "communicationExpiry": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
        "error": ERROR_OBJECT,
        "response": CALLBACK_RESPONSE,
    },
    "anyOf": [{"required": ["link"]}, {"required": ["error"]}],
}
# OnLinkConfirmRequest (m2_receive_link_confirm)
ON_LINK_CONFIRM = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "patient": {"type": "array", "items": ANSWER_ENTRY},
        "error": ERROR_OBJECT,
        "response": CALLBACK_RESPONSE,
    },
    "anyOf": [{"required": ["patient"]}, {"required": ["error"]}],
}
# on-share (patient-share.yaml, POST /api/hiecm/patient-share/v3/on-share): acknowledgement or error, and response
ON_SHARE = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "acknowledgement": {
            "type": "object",
            "required": ["abhaAddress", "status", "profile"],
            "properties": {
                "status": {"enum": ["SUCCESS", "FAILED"]},
                "abhaAddress": {"type": "string"},
                "profile": {
                    "type": "object",
                    "required": ["context", "tokenNumber", "expiry"],
                    "properties": {
                        "context": {"type": "string", "minLength": 1},
                        "tokenNumber": {"type": "string", "minLength": 1},
                        "expiry": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\d+$"}]},
                    },
                },
            },
        },
        "error": {"anyOf": [ERROR_OBJECT, {"type": "null"}]},
        "response": CALLBACK_RESPONSE,
    },
    "anyOf": [{"required": ["acknowledgement"]}, {"required": ["error"]}],
}

# --- sent (callbacks to the bridge) ------------------------------------------------------------------------------

# OnGenerateTokenResultPayload (m2_on_generate_token_result): {abhaAddress, linkToken} or {error}; response always
ON_GENERATE_TOKEN = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "abhaAddress": {"type": "string"},
        "linkToken": {"type": "string", "minLength": 1},
        "error": ERROR_OBJECT,
        "response": CALLBACK_RESPONSE,
    },
    "oneOf": [{"required": ["abhaAddress", "linkToken"]}, {"required": ["error"]}],
}
# OnCareContextResultPayload (m2_on_carecontext_result)
ON_CARE_CONTEXT = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "abhaAddress": {"type": "string"},
        "status": {"type": "string"},
        "error": ERROR_OBJECT,
        "response": CALLBACK_RESPONSE,
    },
    "oneOf": [{"required": ["abhaAddress", "status"]}, {"required": ["error"]}],
}
# OnContextNotifyResultPayload (m2_on_context_notify_result)
ON_CONTEXT_NOTIFY = {
    "type": "object",
    "required": ["acknowledgement", "response"],
    "properties": {
        "acknowledgement": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"enum": ["SUCCESS", "ERRORED"]}},
        },
        "error": ERROR_OBJECT,
        "response": CALLBACK_RESPONSE,
    },
}
_IDENTIFIER = {
    "type": "object",
    "required": ["type", "value"],
    "properties": {
        "type": {"enum": ["MR", "MOBILE", "ABHA_NUMBER", "ABHA_ADDRESS", "EMAIL"]},
        "value": {"type": "string", "pattern": r"^(\+)?[a-zA-Z0-9_\-@,. ]{0,255}$"},
    },
}
# DiscoveryRequestPayload (m2_on_discovery_request)
DISCOVER = {
    "type": "object",
    "required": ["transactionId", "patient"],
    "properties": {
        "transactionId": {"type": "string", "format": "uuid"},
        "patient": {
            "type": "object",
            "required": ["id", "verifiedIdentifiers", "name", "gender", "yearOfBirth"],
            "properties": {
                "id": {"type": "string"},
                "verifiedIdentifiers": {"type": "array", "items": _IDENTIFIER},
                "unverifiedIdentifiers": {"type": "array", "items": _IDENTIFIER},
                "name": {"type": "string"},
                "gender": {"enum": ["M", "F", "O", "D", "T", "U"]},
                "yearOfBirth": {"type": "integer"},
            },
        },
    },
}
# LinkInitPayload (m2_on_link_init)
LINK_INIT = {
    "type": "object",
    "required": ["transactionId", "abhaAddress", "patient"],
    "properties": {
        "transactionId": {"type": "string"},
        "abhaAddress": {"type": "string"},
        "patient": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["referenceNumber", "display", "careContexts", "hiType"],
                "properties": {
                    "referenceNumber": TEXT,
                    "display": {"type": "string"},
                    "careContexts": {"type": "array", "minItems": 1, "items": CARE_CONTEXT},
                    "hiType": HI_TYPE,
                    "count": {"type": "integer"},
                },
            },
        },
    },
}
# LinkConfirmPayload (m2_on_link_confirm)
LINK_CONFIRM = {
    "type": "object",
    "required": ["confirmation"],
    "properties": {
        "confirmation": {
            "type": "object",
            "required": ["token", "linkRefNumber"],
            "properties": {"token": {"type": "integer"}, "linkRefNumber": {"type": "string"}},
        }
    },
}
# The patient-share callback (patient-share.yaml, POST {bridge}/api/v3/hip/patient/share)
PATIENT_SHARE = {
    "type": "object",
    "required": ["intent", "metaData", "profile"],
    "properties": {
        "intent": {"enum": ["PROFILE_SHARE", "RECORD_SHARE", "PAYMENT_SHARE"]},
        "metaData": {
            "type": "object",
            "required": ["hipId", "context", "latitude", "longitude"],
            "properties": {
                "hipId": {"type": "string"},
                "context": {
                    "type": "string",
                    "pattern": r"^(?:[a-zA-Z0-9 ]|[a-zA-Z0-9 ][a-zA-Z0-9.\-_ ]*[a-zA-Z0-9 ]){1,250}$",
                },
                "hprId": {"type": ["string", "null"]},
                "latitude": {"type": ["number", "null"]},
                "longitude": {"type": ["number", "null"]},
            },
        },
        "profile": {
            "type": "object",
            "required": ["patient"],
            "properties": {
                "patient": {
                    "type": "object",
                    "required": ["abhaAddress", "name", "gender", "yearOfBirth", "address", "phoneNumber"],
                    "properties": {
                        "abhaNumber": {"type": ["string", "null"], "pattern": r"^(\d+-?){13}\d$"},
                        "abhaAddress": {"type": "string"},
                        "name": {"type": "string"},
                        "gender": {"enum": ["M", "F", "O", "D", "T", "U"]},
                        "dayOfBirth": {"type": ["string", "null"]},
                        "monthOfBirth": {"type": ["string", "null"]},
                        "yearOfBirth": {"type": "string", "pattern": r"^(19|20|21|22)\d{2}$"},
                        "address": {
                            "type": "object",
                            "required": ["line"],
                            "properties": {
                                "line": {"type": ["string", "null"]},
                                "district": {"type": ["string", "null"]},
                                "state": {"type": ["string", "null"]},
                                "pincode": {"type": ["string", "null"]},
                            },
                        },
                        "phoneNumber": {"type": ["string", "null"]},
                    },
                }
            },
        },
    },
}
