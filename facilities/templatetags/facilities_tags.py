from django import template
from django.conf import settings

from .. import posters

register = template.Library()


@register.simple_tag
def poster_loopback_address() -> str:
    """PORTAL_BASE_URL when phones cannot open it (a loopback address), else "": the counters card warns before
    posters are printed with it."""
    return settings.PORTAL_BASE_URL if posters.address_is_loopback() else ""
