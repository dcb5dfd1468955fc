from django import template

from records.enums import HiType

register = template.Library()


@register.filter
def hi_types_display(codes) -> str:
    """["Prescription", "DiagnosticReport"] -> "Prescription, Diagnostic report" in the active language."""
    labels = dict(HiType.choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or [])
