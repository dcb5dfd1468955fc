from django import template

from abha.enums import Gender

register = template.Library()


@register.filter
def gender_label(code) -> str:
    """ "F" -> "Female" in the reader's language (snapshots and files keep the code, not a translated word)."""
    return str(dict(Gender.choices).get(code, code or ""))
