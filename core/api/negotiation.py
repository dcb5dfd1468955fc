"""Content negotiation whose unknown `?format=` is a 400 naming the field, and whose OPTIONS answer is JSON.

DRF answers a format no renderer offers with a bare 404 (empty message), before authentication; schemathesis found it
on the dashboard tables that document `format=json|csv`. It is bad input, so it is a 400 in the one error shape.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation


class FormatAwareNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        # OPTIONS answers with the view's metadata (a description, not rows): a table format such as `?format=csv`
        # cannot hold it, and the CSV renderer was handed it (a 500). The metadata is JSON whatever the format.
        if request.method == "OPTIONS":
            json_renderers = [renderer for renderer in renderers if renderer.format == "json"] or renderers
            return json_renderers[0], json_renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)

    def filter_renderers(self, renderers, format):
        try:
            return super().filter_renderers(renderers, format)
        except Http404:
            message = _("Use one of: %(choices)s.") % {"choices": ", ".join(sorted({r.format for r in renderers}))}
            raise exceptions.ValidationError({"format": [message]}) from None
