"""Content negotiation whose unknown `?format=` is a 400 naming the field.

DRF answers a format no renderer offers with a bare 404 (empty message), before authentication; schemathesis found it
on the dashboard tables that document `format=json|csv`. It is bad input, so it is a 400 in the one error shape.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation


class FormatAwareNegotiation(DefaultContentNegotiation):
    def filter_renderers(self, renderers, format):
        try:
            return super().filter_renderers(renderers, format)
        except Http404:
            message = _("Use one of: %(choices)s.") % {"choices": ", ".join(sorted({r.format for r in renderers}))}
            raise exceptions.ValidationError({"format": [message]}) from None
