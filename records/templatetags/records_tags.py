from django import template

from records import selectors
from records.enums import PURPOSE_FOR_DOCTORS, HiType

register = template.Library()


@register.filter
def hi_types_display(codes) -> str:
    """["Prescription", "DiagnosticReport"] -> "Prescription, Diagnostic report" in the active language."""
    labels = dict(HiType.choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or [])


@register.filter
def purpose_for_doctors(code) -> str:
    """A purpose as the doctor reads it ("Treatment (care management)", not the patient's "your treatment")."""
    return str(PURPOSE_FOR_DOCTORS.get(code, code))


@register.inclusion_tag("records/_access_entries.html")
def access_log_recent(account, limit: int = 5) -> dict:
    """The newest entries of the citizen's access log, rendered as on the access-log page (one query)."""
    return {"events": selectors.access_log_for(account, limit=limit)}


@register.inclusion_tag("records/_consents_pending.html")
def consents_pending_banner(account) -> dict:
    """A banner on the citizen's home while consent requests await an answer (the portal's and ABDM's)."""
    from records import hiu

    return {"count": selectors.pending_requests_count(account) + hiu.pending_count(account)}
