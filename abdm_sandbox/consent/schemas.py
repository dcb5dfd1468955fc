"""JSON schema facts of every body the consent manager accepts and sends, written from NHA's published files
(nha-in/docs catalogue/openapi/hiecm/v3/hiecm-m3.yaml, hiecm-m2.yaml and the raw
.raw/nha-2026-09-01/fixed/hiecm/consent-management-data-flow.yaml): required fields, types and enums.

The sandbox validates what it accepts with them (jsonschema, draft 2020-12, formats not asserted) and its tests
validate every callback it sends. Plain data: the tests import this module without Django.

Two deliberate readings, where the files contradict themselves:
- keyMaterial.nonce is declared `format: uuid` with a UUID example, but Fidelius (the scheme the same files name,
  ECDH curve25519) needs 32 random bytes in base64; formats are not asserted, so both pass the schema.
- on-status's status enum lists REQUESTED, DENIED, EXPIRED, REVOKED but no GRANTED; a granted request is reported
  as GRANTED (with its artefacts), as ABDM's consent manager does; the schema here admits it.
"""

PURPOSES = {
    "CAREMGT": "Care Management",
    "BTG": "Break the Glass",
    "PUBHLTH": "Public Health",
    "HPAYMT": "Healthcare Payment",
    "DSRCH": "Disease Specific Healthcare Research",
    "PATRQT": "Self Requested",
}
HI_TYPES = [
    "DiagnosticReport",
    "DischargeSummary",
    "HealthDocumentRecord",
    "ImmunizationRecord",
    "OPConsultation",
    "Prescription",
    "WellnessRecord",
    "Invoice",
]
ACCESS_MODES = ["VIEW", "STORE", "STREAM", "QUERY"]
FREQUENCY_UNITS = ["HOUR", "DAY", "WEEK", "MONTH", "YEAR"]

ERROR_CODE = {"type": "string", "pattern": r"^(ABDM-\d{4}|\d{3,6})(: )?$"}
_STRING = {"type": "string"}
_NON_EMPTY = {"type": "string", "minLength": 1}
_DATE_TIME = {"type": "string", "minLength": 1}
_INTEGER = {"type": "integer"}
ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": ERROR_CODE, "message": _STRING},
}
NULLABLE_ERROR = {"anyOf": [{"type": "null"}, ERROR]}
RESPONSE = {"type": "object", "required": ["requestId"], "properties": {"requestId": _NON_EMPTY}}

_PURPOSE = {
    "type": "object",
    "required": ["text", "code", "refUri"],
    "properties": {
        "text": {"enum": list(PURPOSES.values())},
        "code": {"enum": list(PURPOSES)},
        "refUri": {"type": "string", "pattern": r'^[a-zA-Z0-9_\-@,. ":/]{0,255}$'},
    },
}
_SERVICE = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9]+[A-Za-z0-9_\-]*[A-Za-z0-9]$"},
        "name": {"type": ["string", "null"]},
        "type": {"type": ["string", "null"]},
    },
}
_CARE_CONTEXT = {
    "type": "object",
    "required": ["patientReference", "careContextReference"],
    "properties": {"patientReference": _NON_EMPTY, "careContextReference": _NON_EMPTY},
}
_REQUESTER = {
    "type": "object",
    "required": ["name", "identifier"],
    "properties": {
        "name": _NON_EMPTY,
        "identifier": {
            "type": "object",
            "required": ["value", "type", "system"],
            "properties": {"value": _STRING, "type": _STRING, "system": _STRING},
        },
    },
}
_DATE_RANGE = {"type": "object", "required": ["from", "to"], "properties": {"from": _DATE_TIME, "to": _DATE_TIME}}
_FREQUENCY = {
    "type": "object",
    "required": ["unit", "value", "repeats"],
    "properties": {
        "unit": {"enum": FREQUENCY_UNITS},
        "value": _INTEGER,
        "repeats": {"type": ["integer", "null"]},
    },
}
_PERMISSION = {
    "type": "object",
    "required": ["accessMode", "dateRange", "dataEraseAt", "frequency"],
    "properties": {
        "accessMode": {"enum": ACCESS_MODES},
        "dateRange": _DATE_RANGE,
        "dataEraseAt": _DATE_TIME,
        "frequency": _FREQUENCY,
    },
}
_HI_TYPES = {"type": "array", "minItems": 1, "items": {"enum": HI_TYPES}}
_PATIENT = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "string", "pattern": r"^[a-zA-Z0-9][a-zA-Z0-9_.\-!]+[a-zA-Z0-9]@(abdm|sbx)$"}},
}

# POST /api/hiecm/consent/v3/request/init (m3_post_consent_v3_request_init)
CONSENT_REQUEST_INIT = {
    "type": "object",
    "required": ["consent"],
    "properties": {
        "consent": {
            "type": "object",
            "required": ["purpose", "patient", "hiu", "requester", "hiTypes", "permission"],
            "properties": {
                "purpose": _PURPOSE,
                "patient": _PATIENT,
                "hip": {"anyOf": [{"type": "null"}, _SERVICE]},
                "hiu": _SERVICE,
                "careContexts": {"anyOf": [{"type": "null"}, {"type": "array", "items": _CARE_CONTEXT}]},
                "requester": _REQUESTER,
                "hiTypes": _HI_TYPES,
                "permission": _PERMISSION,
            },
        }
    },
}
# POST /api/hiecm/consent/v3/request/status (m3_post_consent_v3_request_status)
CONSENT_REQUEST_STATUS = {
    "type": "object",
    "required": ["consentRequestId"],
    "properties": {"consentRequestId": _NON_EMPTY},
}
# POST /api/hiecm/consent/v3/fetch (m3_post_consent_v3_fetch)
CONSENT_FETCH = {"type": "object", "required": ["consentId"], "properties": {"consentId": _NON_EMPTY}}
# POST /api/hiecm/consent/v3/request/hiu/on-notify (m3_post_consent_v3_request_hiu_on_notify)
HIU_ON_NOTIFY = {
    "type": "object",
    "required": ["acknowledgement", "response"],
    "properties": {
        "acknowledgement": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "consentId"],
                "properties": {"status": _NON_EMPTY, "consentId": _NON_EMPTY},
            },
        },
        "error": NULLABLE_ERROR,
        "response": RESPONSE,
    },
}
# POST /api/hiecm/consent/v3/request/hip/on-notify (m2_consent_hip_on_notify)
HIP_ON_NOTIFY = {
    "type": "object",
    "required": ["acknowledgement", "response"],
    "properties": {
        "acknowledgement": {
            "type": "object",
            "required": ["status", "consentId"],
            "properties": {"status": {"enum": ["OK", "ERROR"]}, "consentId": _NON_EMPTY},
        },
        "error": NULLABLE_ERROR,
        "response": RESPONSE,
    },
}
_KEY_MATERIAL = {
    "type": "object",
    "required": ["cryptoAlg", "curve", "dhPublicKey", "nonce"],
    "properties": {
        "cryptoAlg": _NON_EMPTY,
        "curve": _NON_EMPTY,
        "dhPublicKey": {
            "type": "object",
            "required": ["expiry", "parameters", "keyValue"],
            "properties": {"expiry": _STRING, "parameters": _STRING, "keyValue": _NON_EMPTY},
        },
        "nonce": _NON_EMPTY,
    },
}
_HI_REQUEST = {
    "type": "object",
    "required": ["consent", "dateRange", "dataPushUrl", "keyMaterial"],
    "properties": {
        "consent": {"type": "object", "required": ["id"], "properties": {"id": _NON_EMPTY}},
        "dateRange": _DATE_RANGE,
        "dataPushUrl": _NON_EMPTY,
        "keyMaterial": _KEY_MATERIAL,
    },
}
# POST /api/hiecm/data-flow/v3/health-information/request (m3_post_data_flow_v3_health_information_request)
HEALTH_INFORMATION_REQUEST = {"type": "object", "required": ["hiRequest"], "properties": {"hiRequest": _HI_REQUEST}}
# POST /api/hiecm/data-flow/v3/health-information/hip/on-request (m2_hip_health_information_on_request)
HIP_ON_REQUEST = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "hiRequest": {
            "type": "object",
            "required": ["transactionId", "sessionStatus"],
            "properties": {"transactionId": _NON_EMPTY, "sessionStatus": {"enum": ["ACKNOWLEDGED", "ERRORED"]}},
        },
        "error": NULLABLE_ERROR,
        "response": RESPONSE,
    },
    "anyOf": [{"required": ["hiRequest"]}, {"required": ["error"]}],
}
# POST /api/hiecm/data-flow/v3/health-information/notify (m3_post_data_flow_v3_health_information_notify,
# m2_hip_data_flow_notify): HIP sessionStatus TRANSFERRED|FAILED, hiStatus DELIVERED|ERRORED (M3 prose) or
# OK|ERRORED (M2 enum); HIU sessionStatus RECEIVED|FAILED, hiStatus OK|ERRORED.
HEALTH_INFORMATION_NOTIFY = {
    "type": "object",
    "required": ["notification"],
    "properties": {
        "notification": {
            "type": "object",
            "required": ["consentId", "transactionId", "doneAt", "notifier", "statusNotification"],
            "properties": {
                "consentId": _NON_EMPTY,
                "transactionId": _NON_EMPTY,
                "doneAt": _DATE_TIME,
                "notifier": {
                    "type": "object",
                    "required": ["type", "id"],
                    "properties": {"type": {"enum": ["HIU", "HIP"]}, "id": _NON_EMPTY},
                },
                "statusNotification": {
                    "type": "object",
                    "required": ["sessionStatus", "hipId", "statusResponses"],
                    "properties": {
                        "sessionStatus": {"enum": ["TRANSFERRED", "FAILED", "RECEIVED"]},
                        "hipId": _NON_EMPTY,
                        "statusResponses": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["careContextReference", "hiStatus", "description"],
                                "properties": {
                                    "careContextReference": _NON_EMPTY,
                                    "hiStatus": {"enum": ["OK", "DELIVERED", "ERRORED"]},
                                    "description": _STRING,
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}
# The data push to dataPushUrl (m2_on_data_notification; shape from NHA's M2 collection and the ABDM wrapper):
# {pageNumber, pageCount, transactionId, entries[{content, media, checksum, careContextReference}], keyMaterial}.
DATA_PUSH = {
    "type": "object",
    "required": ["transactionId", "entries", "keyMaterial"],
    "properties": {
        "pageNumber": _INTEGER,
        "pageCount": _INTEGER,
        "transactionId": _NON_EMPTY,
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["media", "checksum", "careContextReference"],
                "properties": {
                    "content": _STRING,
                    "link": _STRING,
                    "media": {"enum": ["application/fhir+json"]},
                    "checksum": _STRING,
                    "careContextReference": _NON_EMPTY,
                },
                "anyOf": [{"required": ["content"]}, {"required": ["link"]}],
            },
        },
        "keyMaterial": _KEY_MATERIAL,
    },
}

# --- callbacks the consent manager sends ----------------------------------------------------------------------

# /api/v3/hiu/consent/request/on-init (m3_post_v3_hiu_consent_request_on_init)
ON_INIT = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "consentRequest": {"anyOf": [{"type": "null"}, {"type": "object", "required": ["id"]}]},
        "error": NULLABLE_ERROR,
        "response": RESPONSE,
    },
    "anyOf": [
        {"required": ["consentRequest"], "properties": {"consentRequest": {"type": "object"}}},
        {"required": ["error"], "properties": {"error": ERROR}},
    ],
}
# /api/v3/hiu/consent/request/on-status (m3_post_v3_hiu_consent_request_on_status)
ON_STATUS = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "consentRequest": {
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": _NON_EMPTY,
                        "status": {"enum": ["REQUESTED", "GRANTED", "DENIED", "EXPIRED", "REVOKED"]},
                        "consentArtefacts": {
                            "type": "array",
                            "items": {"type": "object", "required": ["id"], "properties": {"id": _NON_EMPTY}},
                        },
                    },
                },
            ]
        },
        "error": NULLABLE_ERROR,
        "response": RESPONSE,
    },
}
# /api/v3/hiu/consent/request/notify (m3_post_v3_hiu_consent_request_notify)
HIU_NOTIFY = {
    "type": "object",
    "required": ["notification"],
    "properties": {
        "notification": {
            "type": "object",
            "required": ["consentRequestId", "status", "reason", "consentArtefacts"],
            "properties": {
                "consentRequestId": _NON_EMPTY,
                "status": {"enum": ["GRANTED", "EXPIRED", "DENIED", "REQUESTED", "REVOKED"]},
                "reason": {"type": ["string", "null"]},
                "consentArtefacts": {
                    "type": "array",
                    "items": {"type": "object", "required": ["id"], "properties": {"id": _NON_EMPTY}},
                },
            },
        }
    },
}
CONSENT_DETAIL = {
    "type": "object",
    "required": [
        "schemaVersion",
        "consentId",
        "createdAt",
        "patient",
        "careContexts",
        "purpose",
        "hip",
        "hiu",
        "consentManager",
        "requester",
        "hiTypes",
        "permission",
        "dataEraseAt",
        "frequency",
        "lastUpdated",
    ],
    "properties": {
        "schemaVersion": _STRING,
        "consentId": _NON_EMPTY,
        "createdAt": _DATE_TIME,
        "patient": _PATIENT,
        "careContexts": {"type": "array", "items": _CARE_CONTEXT},
        "purpose": _PURPOSE,
        "hip": _SERVICE,
        "hiu": _SERVICE,
        "consentManager": {"type": "object", "required": ["id"], "properties": {"id": _NON_EMPTY}},
        "requester": _REQUESTER,
        "hiTypes": _HI_TYPES,
        "permission": _PERMISSION,
        "dataEraseAt": _DATE_TIME,
        "frequency": _FREQUENCY,
        "lastUpdated": _DATE_TIME,
    },
}
# /api/v3/consent/request/hip/notify (consent-management-data-flow.yaml, "consent-management 1")
HIP_NOTIFY = {
    "type": "object",
    "required": ["notification"],
    "properties": {
        "notification": {
            "type": "object",
            "required": ["status", "consentId", "consentDetail", "signature", "grantAcknowledgement"],
            "properties": {
                "status": {"enum": ["GRANTED", "EXPIRED", "DENIED", "REQUESTED", "REVOKED"]},
                "consentId": _NON_EMPTY,
                "consentDetail": CONSENT_DETAIL,
                "signature": _NON_EMPTY,
                "grantAcknowledgement": {"type": "boolean"},
            },
        }
    },
}
# /api/v3/hiu/consent/on-fetch (m3_post_v3_hiu_consent_on_fetch)
ON_FETCH = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "consent": {
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["status", "consentDetail", "signature"],
                    "properties": {
                        "status": {"enum": ["GRANTED", "DENIED", "EXPIRED", "REVOKED"]},
                        "consentDetail": CONSENT_DETAIL,
                        "signature": _NON_EMPTY,
                    },
                },
            ]
        },
        "error": NULLABLE_ERROR,
        "response": RESPONSE,
    },
}
# /api/v3/hiu/health-information/on-request (m3_post_v3_hiu_health_information_on_request)
HIU_ON_REQUEST = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "hiRequest": {
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["transactionId", "sessionStatus"],
                    "properties": {"transactionId": _NON_EMPTY, "sessionStatus": _NON_EMPTY},
                },
            ]
        },
        "error": NULLABLE_ERROR,
        "response": RESPONSE,
    },
}
# /api/v3/hip/health-information/request (consent-management-data-flow.yaml, "abdm-consent-management 3")
HIP_HEALTH_INFORMATION_REQUEST = {
    "type": "object",
    "required": ["transactionId", "hiRequest"],
    "properties": {"transactionId": _NON_EMPTY, "hiRequest": _HI_REQUEST},
}
# GET /api/hiecm/data-flow/v3/health-information/request/status/{transaction-id}
TRANSFER_STATUS = {
    "type": "object",
    "required": ["transactionId", "status"],
    "properties": {"transactionId": _NON_EMPTY, "status": _NON_EMPTY},
}

CALLBACK_SCHEMAS = {
    "/api/v3/hiu/consent/request/on-init": ON_INIT,
    "/api/v3/hiu/consent/request/on-status": ON_STATUS,
    "/api/v3/hiu/consent/request/notify": HIU_NOTIFY,
    "/api/v3/hiu/consent/on-fetch": ON_FETCH,
    "/api/v3/hiu/health-information/on-request": HIU_ON_REQUEST,
    "/api/v3/consent/request/hip/notify": HIP_NOTIFY,
    "/api/v3/hip/health-information/request": HIP_HEALTH_INFORMATION_REQUEST,
}
