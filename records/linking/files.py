"""Batch files for record linking: checks at upload, and reading rows by byte range, streamed.

A CSV is cut into chunks of whole rows by byte offsets (a quoted field may hold newlines, so the
offsets come from the CSV parser, not from counting lines). An NDJSON file has one bundle per line.
Nothing here reads a whole file into memory.
"""

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from core.exceptions import DomainError

from ..enums import LinkingFileFormat

# The columns a CSV must have (values may be empty), then those it may have.
REQUIRED_COLUMNS = [
    "abha_number",
    "abha_address",
    "mobile",
    "name",
    "gender",
    "year_of_birth",
    "care_context_reference",
    "care_context_display",
    "visit_date",
    "hi_type",
]
OPTIONAL_COLUMNS = ["record_id", "fhir_bundle", "pdf_path"]
EXTENSIONS = {
    "csv": LinkingFileFormat.CSV,
    "ndjson": LinkingFileFormat.NDJSON,
    "jsonl": LinkingFileFormat.NDJSON,
    "zip": LinkingFileFormat.ZIP,
}
SNIFF_BYTES = 64 * 1024
csv.field_size_limit(16 * 1024 * 1024)  # a FHIR bundle in a cell can be large (16 MB at most)


def max_upload_bytes() -> int:
    return settings.LINKING_MAX_UPLOAD_BYTES


def _refuse(message) -> DomainError:
    return DomainError(message, code="bad_file", fields={"file": [message]})


def normal_column(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


def expected_columns_text() -> str:
    return ", ".join(REQUIRED_COLUMNS) + " (" + _("optional:") + " " + ", ".join(OPTIONAL_COLUMNS) + ")"


def _text_prefix(head: bytes) -> str:
    """The first bytes as text, or a clear refusal for binary files and other encodings."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[1:2] == b"\x00":
            raise _refuse(_("This file is UTF-16 text. Save it as “CSV UTF-8” and upload it again."))
        raise _refuse(_("This is not a text file. Upload a CSV (UTF-8) or NDJSON file."))
    # Cut at the last newline so that a multi-byte character split by the sniff window is not an error.
    cut = head.rfind(b"\n")
    sample = head if cut < 0 or len(head) < SNIFF_BYTES else head[: cut + 1]
    try:
        return sample.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(
            _("This file is not UTF-8 text (perhaps Windows-1252 or another encoding). Save it as “CSV UTF-8”.")
        ) from None


def check_csv_header(head: bytes) -> list[str]:
    """The normalised header of a CSV, or DomainError listing the expected columns."""
    text = _text_prefix(head)
    first_line = text.splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        raise _refuse(_("The file is empty."))
    header = [normal_column(name) for name in next(csv.reader([first_line]))]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [column for column in header if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    duplicated = sorted({column for column in header if header.count(column) > 1})
    problems = []
    if missing:
        problems.append(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    if unknown:
        problems.append(_("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)})
    if duplicated:
        problems.append(_("Repeated columns: %(columns)s.") % {"columns": ", ".join(duplicated)})
    if problems:
        message = " ".join(problems) + " " + _("Expected columns: %(columns)s.") % {"columns": expected_columns_text()}
        raise DomainError(message, code="bad_columns", fields={"file": [message]})
    return header


def check_ndjson_head(head: bytes) -> None:
    text = _text_prefix(head)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise _refuse(_("The file is empty."))
    try:
        value = json.loads(first)
    except ValueError:
        if len(head) >= SNIFF_BYTES and text.count("\n") == 0:
            return  # one bundle longer than the sniff window: its own row will say whether it parses
        raise _refuse(_("The first line is not JSON. An NDJSON file has one FHIR bundle per line.")) from None
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        raise _refuse(_("The first line is not a FHIR Bundle. An NDJSON file has one FHIR bundle per line."))


def zip_rows_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The one CSV inside a ZIP upload (with the PDFs its rows name)."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    csvs = [info for info in members if info.filename.lower().endswith(".csv")]
    if len(csvs) != 1:
        raise _refuse(_("A ZIP upload must hold exactly one CSV file (and the PDF files it names)."))
    if sum(info.file_size for info in members) > max_upload_bytes():
        raise _refuse(_("The files inside this ZIP are larger than the upload limit."))
    return csvs[0]


def check_upload(uploaded_file, name: str) -> tuple[str, list[str] | None]:
    """(file format, CSV header or None) for an uploaded file, or DomainError on `file` with the reason."""
    extension = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    file_format = EXTENSIONS.get(extension)
    if file_format is None:
        raise _refuse(_("Upload a .csv, .ndjson or .zip file."))
    size = uploaded_file.size or 0
    if size == 0:
        raise _refuse(_("The file is empty."))
    if size > max_upload_bytes():
        raise _refuse(too_large_message())
    uploaded_file.seek(0)
    if file_format == LinkingFileFormat.ZIP:
        try:
            archive = zipfile.ZipFile(uploaded_file)
            with archive.open(zip_rows_member(archive)) as member:
                header = check_csv_header(member.read(SNIFF_BYTES))
        except (zipfile.BadZipFile, EOFError):
            raise _refuse(_("This ZIP file is damaged.")) from None
        finally:
            uploaded_file.seek(0)
        return file_format, header
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    if file_format == LinkingFileFormat.NDJSON:
        check_ndjson_head(head)
        return file_format, None
    return file_format, check_csv_header(head)


def upload_too_large(request) -> bool:
    """True when the request's Content-Length says its upload is over the limit: checked before the body is read
    (the form's own fields fit in the 1 MB allowed on top). A missing or garbled length is left to Django."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > max_upload_bytes() + 1024 * 1024


def too_large_message() -> str:
    return _("The file is larger than %(size)s MB. Split it into smaller files.") % {
        "size": max_upload_bytes() // (1024 * 1024)
    }


# --- Reading rows ---------------------------------------------------------------------------------


@dataclass
class RowSpan:
    number: int  # the CSV header is row 1, so data starts at row 2; NDJSON bundles count from 1 (blank lines skipped)
    start: int
    end: int


def _lines_with_offsets(stream, offset: int) -> Iterator[tuple[bytes, int]]:
    for line in stream:
        offset += len(line)
        yield line, offset


def _csv_records(stream, offset: int = 0):
    """(fields, start_byte, end_byte) per non-empty CSV record of a binary stream, in order."""
    state = {"end": offset}

    def decoded():
        for line, end in _lines_with_offsets(stream, offset):
            state["end"] = end
            # Bad bytes become surrogates: the row is reported as not UTF-8 instead of stopping the job.
            yield line.decode("utf-8", errors="surrogateescape")

    start = offset
    for fields in csv.reader(decoded()):
        end = state["end"]
        if fields and "".join(fields).strip():
            yield fields, start, end
        start = end


def row_spans(stream, file_format: str) -> Iterator[RowSpan]:
    """Every data row of a whole file (header skipped), with its byte range: for cutting chunks."""
    if file_format == LinkingFileFormat.NDJSON:
        start, number = 0, 0
        for line, end in _lines_with_offsets(stream, 0):
            if line.strip():
                number += 1
                yield RowSpan(number, start, end)
            start = end
        return
    records = _csv_records(stream)
    header = next(records, None)
    if header is None:
        return
    for number, (_fields, start, end) in enumerate(records, start=2):
        yield RowSpan(number, start, end)


def read_range(stream, start: int, end: int) -> bytes:
    stream.seek(start)
    return stream.read(end - start)


def csv_header(stream) -> list[str]:
    stream.seek(0)
    first = next(_csv_records(stream), None)
    return [normal_column(name) for name in first[0]] if first else []


def csv_rows(data: bytes) -> Iterator[list[str]]:
    """The records in a chunk's bytes (the same non-empty records `row_spans` counted)."""
    text = data.decode("utf-8", errors="surrogateescape")
    for fields in csv.reader(io.StringIO(text, newline="")):
        if fields and "".join(fields).strip():  # one call, not a generator per row: 2 lakh rows
            yield fields


def ndjson_rows(data: bytes) -> Iterator[str]:
    for line in data.splitlines():
        if line.strip():
            yield line.decode("utf-8", errors="surrogateescape")


def has_bad_bytes(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
