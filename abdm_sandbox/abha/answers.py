"""M1's answer shapes (hiecm-m1.yaml, x-abdm-errors "Four error shapes, not one"):

1. wrapped: {"error": {"code": "ABDM-1xxx", "message": ...}}      (business rules: ABDM-1204, -1101, -1017 ...)
2. flat:    {"code": "ABDM-1xxx", "message": ..., "timestamp": ...}
3. field:   {"<field>": "Invalid ...", "timestamp": ...}            (request validation; always HTTP 400)
4. gateway: {"code": "900901", "message", "description"}           (auth.require_session)
Plus the PHR web login's list form: [{"code": ..., "message": ...}].
Codes are sent without the trailing ": " some of NHA's examples carry ("ABDM-1006: ").
"""

import datetime

from django.http import HttpResponse, JsonResponse


def timestamp() -> str:
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def field(name: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({name: message, "timestamp": timestamp()}, status=status)


def wrapped(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def flat(status: int, code: str | None, message: str) -> JsonResponse:
    body = (
        {"code": code, "message": message, "timestamp": timestamp()}
        if code
        else {"message": message, "timestamp": timestamp()}
    )
    return JsonResponse(body, status=status)


def listed(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse([{"code": code, "message": message}], status=status, safe=False)


def ok(body, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False)


def png(data: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(data, status=status, content_type="image/png")


# The codes and messages this service answers with, as NHA's files give them.
INVALID_OTP_AADHAAR = ("ABDM-1204", "UIDAI Error code : 400 : Invalid Aadhaar OTP value.")
EXPIRED_OTP_AADHAAR = (
    "ABDM-1204",
    "UIDAI Error code : 403 : Maximum number of attempts for OTP match is exceeded or OTP is not generated. "
    "Please generate a fresh OTP and try to authenticate again.",
)
TOO_MANY = (
    "ABDM-1100",
    "You have requested multiple OTPs Or Exceeded maximum number of attempts for OTP match in this transaction. "
    "Please try again in 30 minutes.",
)
ADDRESS_TAKEN = ("ABDM-1101", "This ABHA Address already exists. Please create with unique ABHA address")
INVALID_TXN = ("ABDM-1017", "Invalid Transaction Id")
INVALID_X_TOKEN = ("ABDM-1158", "Invalid X-token")
X_TOKEN_EXPIRED = ("ABDM-1094", "X-token expired")
USER_NOT_FOUND = ("ABDM-1114", "User not found.")
NO_ABHA_FOR_AADHAAR = ("ABDM-1114", "No ABHA user registered with this Aadhaar number.")
MOBILE_FULL = (
    "ABDM-1124",
    "The mobile number provided by you is already linked to 6 ABHA Numbers. Please provide a different Mobile Number.",
)
BIOMETRIC_NOT_ALLOWED = ("ABDM-1224", "Login via Biometric is not allowed.")
ABHA_NUMBER_OTP_NOT_ALLOWED = ("ABDM-1118", "Login via ABHA Number OTP is not allowed")
AADHAAR_OTP_NOT_ALLOWED = ("ABDM-1119", "Login via Aadhaar OTP is not allowed")
PHR_USER_NOT_FOUND = ("ABDM-1211", "User not found.")
