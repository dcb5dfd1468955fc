"""ABDM's error codes in plain words for pages, in the reader's language.

The codes are the ones NHA publishes (nha-in/docs, catalogue/openapi/hiecm/v3/: the gateway's responses in
hiecm-gateway.yaml, the `x-abdm-errors` table of hiecm-m1.yaml, and the API gateway's numeric `900901`). A code
that is not in the table is shown with ABDM's own message ("ABDM could not do this: <message>"). Every text is
looked up when it is read, so the same error renders in English, Hindi or Gujarati depending on the page.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

UNAVAILABLE = _("ABDM is not answering. Please try again in a minute.")
_TECHNICAL = _("ABDM refused the portal's request. Please try again; if it happens again, tell the state's ABDM team.")
_NOT_ENABLED = _("The portal is not allowed to do this on ABDM. Please tell the state's ABDM team.")

# Codes whose `action` in hiecm-m1.yaml is "Retry" because a service behind ABDM is down (not the OTP or rate
# limits, which are the caller's to wait out): the client raises AbdmUnavailable for them, as for a 503.
UNAVAILABLE_CODES = frozenset(
    {
        "ABDM-1019",  # Dependent Service Unavailable
        "ABDM-1024",  # Dependent service unavailable (gateway)
        "ABDM-1029",  # Redis server is unavailable
        "ABDM-1034",  # Notification service unavailable
        "ABDM-1048",  # Timeout
        "ABDM-1108",  # Notification DB service unavailable
        "ABDM-1200",  # LGD Gateway is unavailable
        "ABDM-1201",  # IDP Gateway is unavailable
        "ABDM-1202",  # Document Gateway is unavailable
        "ABDM-1205",  # Document DB Gateway is unavailable
        "ABDM-1206",  # Aadhaar Gateway is unavailable
        "ABDM-1220",  # Unable to process your request at this time
        "ABDM-1226",  # Vault service unavailable
    }
)

# code -> plain words. Codes as ABDM sends them, without the trailing ": " some replies carry.
KNOWN_CODES = {
    "ABDM-1001": _("ABDM found nothing for this request."),
    "ABDM-1002": _TECHNICAL,
    "ABDM-1006": _TECHNICAL,
    "ABDM-1008": _("ABDM cannot send SMS right now. Please try again later."),
    "ABDM-1009": _("ABDM cannot send email right now. Please try again later."),
    "ABDM-1013": _("ABDM does not know this ABHA number. Please check it."),
    "ABDM-1015": _TECHNICAL,
    "ABDM-1016": _TECHNICAL,
    "ABDM-1017": _("This step has expired. Please start again."),
    "ABDM-1021": _NOT_ENABLED,
    "ABDM-1022": _("Too many requests to ABDM. Please wait a few minutes and try again."),
    "ABDM-1030": _TECHNICAL,
    "ABDM-1065": _("ABDM's facility registry has no facility with this ID."),
    "ABDM-1066": _("The password is not correct."),
    "ABDM-1094": _NOT_ENABLED,
    "ABDM-1100": _("Too many OTP requests or wrong OTPs. Please try again in 30 minutes."),
    "ABDM-1101": _("This ABHA address is already taken. Please choose another one."),
    "ABDM-1102": _("The mobile number is not verified yet. Please verify it with the OTP."),
    "ABDM-1107": _TECHNICAL,
    "ABDM-1124": _("This mobile number is already linked to 6 ABHA numbers. Please give a different mobile number."),
    "ABDM-1134": _("This ABHA account is deactivated."),
    "ABDM-1135": _("This email address is already linked to 6 ABHA numbers. Please give a different email address."),
    "ABDM-1141": _("An ABHA number already exists for this Aadhaar. Please sign in with it."),
    "ABDM-1158": _("Your ABHA sign-in has expired. Please sign in again."),
    "ABDM-1204": _("Aadhaar (UIDAI) could not verify this. Please check the OTP or the details and try again."),
    "ABDM-1207": _("The details do not match Aadhaar's records. Please check them and try again."),
    "ABDM-1219": _("This ABHA is linked to a government benefit programme, so it cannot be deleted."),
    "ABDM-1227": _("The portal has reached ABDM's limit of new ABHA numbers. Please tell the state's ABDM team."),
    "ABDM-1228": _("This ABHA is linked to a government benefit programme, so it cannot be deactivated."),
    "ABDM-9999": _("ABDM had an unexpected problem. Please try again later."),
    "900901": _("The portal could not sign in to ABDM. Please tell the state's ABDM team."),
}
for _code in UNAVAILABLE_CODES:
    KNOWN_CODES[_code] = UNAVAILABLE


def user_message_for(code: str, message: str) -> str:
    """The translated plain-words text for an ABDM error `code` (ABDM's own `message` for unknown codes)."""
    known = KNOWN_CODES.get(code)
    if known is not None:
        return str(known)
    return gettext("ABDM could not do this: %(message)s") % {"message": message or code or "?"}
