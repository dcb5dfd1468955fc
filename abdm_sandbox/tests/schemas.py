"""Response schemas written from NHA's published OpenAPI (nha-in/docs, catalogue/openapi/hiecm/v3/): the required
fields, types, enums and code patterns each reply must have. Validated with jsonschema in the tests."""

ERROR_CODE = {"type": "string", "pattern": r"^(ABDM-\d{4}|\d{3,6})(: )?$"}

# hiecm-gateway.yaml: 400/204/500 bodies wrap the code; 401 and 503 are flat.
WRAPPED_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": ERROR_CODE, "message": {"type": "string"}},
        }
    },
}
UNAUTHORIZED = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": ERROR_CODE, "message": {"type": "string"}, "description": {"type": "string"}},
}

# POST /api/hiecm/gateway/v3/sessions, 202
SESSION = {
    "type": "object",
    "required": ["accessToken", "expiresIn", "refreshExpiresIn", "refreshToken", "tokenType"],
    "properties": {
        "accessToken": {"type": "string"},
        "expiresIn": {"type": "integer"},
        "refreshExpiresIn": {"type": "integer"},
        "refreshToken": {"type": "string"},
        "tokenType": {"type": "string"},
    },
}

# GET /api/hiecm/gateway/v3/.well-known/openid-configuration, 200 (the spec lists `url` as required and
# describes `jwks_uri`).
OPENID_CONFIGURATION = {
    "type": "object",
    "required": ["url", "jwks_uri"],
    "properties": {"jwks_uri": {"type": "string", "format": "uri"}},
}

# GET /api/hiecm/gateway/v3/certs, 200
_JWK = {
    "type": "object",
    "required": ["e", "kid", "kty", "n", "use", "alg"],
    "properties": {
        "e": {"type": "string"},
        "kid": {"type": "string"},
        "kty": {"const": "RSA"},
        "n": {"type": "string"},
        "use": {"const": "sig"},
        "x5c": {"type": "array", "items": {"type": "string"}},
        "alg": {"const": "RS256"},
    },
}
CERTS = {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": _JWK}}}

# GET /api/hiecm/gateway/v3/bridge-services, 200
_ENDPOINT = {
    "type": "object",
    "properties": {
        "use": {"type": "string"},
        "connectionType": {"type": "string"},
        "address": {"type": "string"},
    },
}
BRIDGE_SERVICES = {
    "type": "object",
    "required": ["bridge", "services"],
    "properties": {
        "bridge": {
            "type": "object",
            "required": ["id", "name", "url", "active", "blocklisted"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "url": {"type": "string"},
                "active": {"type": "boolean"},
                "blocklisted": {"type": "boolean"},
            },
        },
        "services": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "types", "active"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "types": {"type": "array", "items": {"enum": ["HIP", "HIU", "HEALTH_LOCKER", "PHR"]}},
                    "endpoints": {
                        "type": ["object", "null"],
                        "properties": {
                            "hipEndpoints": {"type": "array", "items": _ENDPOINT},
                            "hiuEndpoints": {"type": "array", "items": _ENDPOINT},
                            "healthLockerEndpoints": {"type": "array", "items": _ENDPOINT},
                        },
                    },
                    "active": {"type": "boolean"},
                },
            },
        },
    },
}

# GET /api/hiecm/gateway/v3/bridge-service/serviceId/{service-id}, 200
_DATE_TIME = {"type": ["string", "null"]}
BRIDGE_SERVICE = {
    "type": "object",
    "required": ["id", "bridgeId", "serviceId", "name", "isHip", "isHiu", "isHealthLocker", "isPhr", "active"],
    "properties": {
        "id": {"type": "number"},
        "bridgeId": {"type": "string"},
        "serviceId": {"type": "string"},
        "name": {"type": "string"},
        "isHip": {"type": "boolean"},
        "isHiu": {"type": "boolean"},
        "isHealthLocker": {"type": "boolean"},
        "isPhr": {"type": "boolean"},
        "active": {"type": "boolean"},
        "registerTime": _DATE_TIME,
        "dateCreated": _DATE_TIME,
        "dateModified": _DATE_TIME,
    },
}

# hiecm-m4.yaml: POST /FacilityManagement/v1.5/facility/search -> FacilitySearchResponse
_STRING = {"type": "string"}
_SEARCH_STRINGS = (
    "ownership",
    "systemOfMedicineCode",
    "systemOfMedicine",
    "facilityType",
    "facPsuName",
    "stateName",
    "stateLGDCode",
    "districtName",
    "districtLGDCode",
    "subDistrictName",
    "subDistrictLGDCode",
    "address",
    "pincode",
    "latitude",
    "longitude",
    "facilityId",
    "facilityName",
    "facilityStatus",
    "ownershipCode",
    "facilityTypeCode",
)
SEARCH_FACILITY_ROW = {
    "type": "object",
    "required": ["facilityId", "facilityName", "facilityStatus", "stateLGDCode", "districtLGDCode", "ownershipCode"],
    "properties": {
        **dict.fromkeys(_SEARCH_STRINGS, _STRING),
        "workingInPsu": {"type": "boolean"},
        "villageCityTownName": {"type": ["string", "null"]},
        "villageCityTownLGDCode": {"type": ["string", "null"]},
    },
}
FACILITY_SEARCH = {
    "type": "object",
    "required": ["facilities", "message", "totalFacilities", "numberOfPages"],
    "properties": {
        "facilities": {"type": "array", "items": SEARCH_FACILITY_ROW},
        "message": _STRING,
        "totalFacilities": {"type": "integer"},
        "numberOfPages": {"type": "integer"},
    },
}

# GET /v1/search/searchByHprId/{hprId} -> ForgetUserEntityResponseDTO
HPR_USER = {
    "type": "object",
    "required": ["hprIdNumber", "name", "hprId", "categoryId", "subCategoryId"],
    "properties": {
        "hprIdNumber": _STRING,
        "name": _STRING,
        "authMethods": {
            "type": "array",
            "items": {
                "enum": [
                    "AADHAAR_OTP",
                    "MOBILE_OTP",
                    "PASSWORD",
                    "DEMOGRAPHICS",
                    "AADHAAR_BIO",
                    "EMAIL_OTP",
                    "MOBILE_OTP_RESET_PASSWROD",
                    "FACE_AUTH",
                ]
            },  # fmt: skip
        },
        "hprId": _STRING,
        "categoryId": _STRING,
        "subCategoryId": _STRING,
    },
}

# POST /apis/v1/doctors/fetch-professional-info -> FetchProfessionalResponseDTO
FETCH_PROFESSIONALS = {
    "type": "object",
    "properties": {
        "message": _STRING,
        "practitioners": {"type": "array", "items": {"type": "array", "items": {"type": "object"}}},
    },
}

# GET /api/hiecm/gateway/v3/providers (array) and /providers/{provider-id}
_IDENTIFIER = {
    "type": "object",
    "required": ["name", "id"],
    "properties": {"name": {"type": "string"}, "id": {"type": "string"}},
}
_FACILITY_TYPES = {"type": "array", "items": {"enum": ["HIP", "HIU", "HEALTH_LOCKER"]}}
PROVIDER = {
    "type": "object",
    "properties": {
        "identifier": _IDENTIFIER,
        "facilityType": _FACILITY_TYPES,
        "isHIP": {"type": "boolean"},
        "isHiu": {"type": "boolean"},
        "isHealthLocker": {"type": "boolean"},
        "isPhr": {"type": "boolean"},
        "isGovtEntity": {"type": ["boolean", "null"]},
        "endpoints": {"type": "object"},
    },
}
PROVIDERS = {"type": "array", "items": PROVIDER}
