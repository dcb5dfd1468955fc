"""`?format=csv` for the API's tables: the same rows as the JSON, one line each, for spreadsheet programs.

A view opts in with `CSVExportMixin`; its JSON is unchanged. The file starts with a UTF-8 byte order
mark (so spreadsheet programs read Gujarati and Hindi names correctly) and downloads as an attachment
named by the view. Errors stay JSON, in the API's error shape.
"""

import csv
import io

from django.utils.text import slugify
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.settings import api_settings

BOM = "\ufeff"


def csv_text(header: list[str], rows) -> str:
    """CSV text with a byte order mark: `header`, then each row (a sequence of cells)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(_cell(item)) for item in value)
    if isinstance(value, dict):
        return ";".join(f"{key}={_cell(item)}" for key, item in value.items())
    return value


class CSVRenderer(BaseRenderer):
    """Renders a list of flat objects (or a view's `csv_rows(data)`) as CSV, columns in the objects' key order."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        view, response = renderer_context.get("view"), renderer_context.get("response")
        rows = view.csv_rows(data) if hasattr(view, "csv_rows") else data
        if isinstance(rows, dict) and "results" in rows:  # a page, if pagination was not turned off
            rows = rows["results"]
        rows = list(rows or [])
        header = list(rows[0].keys()) if rows else list(getattr(view, "csv_columns", []))
        if response is not None:
            name = view.csv_filename(data) if hasattr(view, "csv_filename") else "export"
            response["Content-Disposition"] = f'attachment; filename="{slugify(name) or "export"}.csv"'
        return csv_text(header, ([_cell(row.get(column)) for column in header] for row in rows)).encode("utf-8")


# Adds `?format=csv` (or `Accept: text/csv`) to an API view; a list is exported whole, not by page.
# Set `csv_columns` (the header when there are no rows); define `csv_filename(data)` and, for a detail
# whose table is nested, `csv_rows(data)`. (A comment, not a docstring: drf-spectacular would show a
# docstring as the description of every operation of the views that use it.)
class CSVExportMixin:
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    csv_columns: list[str] = []

    def perform_content_negotiation(self, request, force=False):
        # An unknown ?format= is a 400 on the parameter (DRF answers 404, as if the table did not exist).
        wanted = request.query_params.get(api_settings.URL_FORMAT_OVERRIDE)
        if wanted and not force and wanted not in {renderer.format for renderer in self.get_renderers()}:
            raise exceptions.ValidationError({"format": [_("Use json or csv.")]})
        return super().perform_content_negotiation(request, force)

    def _wants_csv(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return isinstance(renderer, CSVRenderer)

    def paginate_queryset(self, queryset):
        if self._wants_csv():
            return None
        return super().paginate_queryset(queryset)

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400 and isinstance(getattr(request, "accepted_renderer", None), CSVRenderer):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
