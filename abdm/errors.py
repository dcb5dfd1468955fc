"""ABDM's error codes in plain words for pages, in the reader's language.

The codes come from NHA's published OpenAPI (nha-in/docs, catalogue/openapi/hiecm/v3/*.yaml). A code ABDM sends
that is not in the table is shown with ABDM's own message. Every text is looked up when it is read, so the same
error renders in English, Hindi or Gujarati depending on the page's language.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

UNAVAILABLE = _("ABDM is not answering. Please try again in a minute.")
GENERIC = _("ABDM could not do this: %(message)s")

# code -> plain words. Codes as ABDM sends them, without the trailing ": " some replies carry.
KNOWN_CODES = {
    # Gateway (hiecm-gateway.yaml) and shared codes
    "ABDM-1001": _("ABDM found no data for this request."),
    "ABDM-1015": _("ABDM refused the request as invalid. Please check the details and try again."),
    "ABDM-1024": UNAVAILABLE,
    "ABDM-9999": _("ABDM had an unexpected problem. Please try again later."),
    "900901": _("The portal could not sign in to ABDM. Please tell the state's ABDM administrator."),
}


def user_message_for(code: str, message: str) -> str:
    """The translated plain-words text for an ABDM error `code` (ABDM's own `message` for unknown codes)."""
    known = KNOWN_CODES.get(code)
    if known is not None:
        return str(known)
    return gettext("ABDM could not do this: %(message)s") % {"message": message or code or "?"}
