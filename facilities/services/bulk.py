"""Bulk onboarding of government facilities from a CSV, set-based.

An official uploads a file (`bulk_upload_create`); a Celery task calls `bulk_upload_process`, which claims the job
with a conditional update (a repeated message is a no-op), validates every row in Python, then creates and updates
facilities with `bulk_create` / `bulk_update` in batches and writes a per-row error report CSV.
Rows are matched to existing facilities by facility ID, or else by name + pincode, so uploading the same file again
updates rather than duplicates.
"""

import csv
import datetime
import io
import re
import secrets
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from abdm import bridge_services, hfr
from abdm.client import AbdmError
from core import access
from core.exceptions import DomainError, NotAllowed
from core.models import District
from core.outage import enqueue_on_commit
from core.services import audit_record

from ..counting import facilities_created_counted, facility_district_counted
from ..enums import BulkUploadStatus, FacilityStatus, FacilityType, Ownership, Region, ServiceType, SystemOfMedicine
from ..models import INDIA_LATITUDE, INDIA_LONGITUDE, BulkUpload, Facility
from .facility import hfr_mismatch_message
from .registry import abdm_refusal

COLUMNS = [
    "facility_id",
    "name",
    "facility_type",
    "ownership",
    "district_lgd",
    "address",
    "pincode",
    "contact_mobile",
    "beds",
    "systems_of_medicine",
    "service_type",
    "region",
    "latitude",
    "longitude",
]
REQUIRED = ["name", "facility_type", "district_lgd", "pincode"]
UPDATABLE = [
    "name",
    "facility_type",
    "ownership",
    "district",
    "state",
    "address",
    "pincode",
    "contact_mobile",
    "beds",
    "systems_of_medicine",
    "service_type",
    "region",
    "latitude",
    "longitude",
]
# The columns a row may change, as stored (a state or district by its LGD code).
UPDATED_COLUMNS = [f"{name}_id" if name in ("state", "district") else name for name in UPDATABLE]
BATCH = 2000
MAX_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
PINCODE = re.compile(r"^[1-9][0-9]{5}$")
MOBILE = re.compile(r"^[6-9][0-9]{9}$")
FACILITY_ID = re.compile(r"^IN[0-9]{10}$")


def _check_content(uploaded_file, extension: str) -> None:
    """The bytes must be what the name says: text for a CSV, a ZIP (an XLSX workbook) that does not unpack
    to more than MAX_UNPACKED_BYTES (a small file that inflates to gigabytes would exhaust the worker)."""
    head = uploaded_file.read(64 * 1024)
    uploaded_file.seek(0)
    if extension == "csv" and b"\x00" in head:
        message = _("This is not a CSV text file. Save it as “CSV UTF-8” and upload it again.")
        raise DomainError(message, fields={"file": [message]})
    if extension == "xlsx":
        try:
            with zipfile.ZipFile(uploaded_file) as workbook:
                unpacked = sum(member.file_size for member in workbook.infolist())
        except zipfile.BadZipFile:
            unpacked = None
        uploaded_file.seek(0)
        if unpacked is None:
            message = _("This is not an Excel (XLSX) workbook. Save it as .xlsx or CSV and upload it again.")
            raise DomainError(message, fields={"file": [message]})
        if unpacked > MAX_UNPACKED_BYTES:
            message = _("This workbook is too large once unpacked. Split it into smaller files.")
            raise DomainError(message, fields={"file": [message]})


@transaction.atomic
def bulk_upload_create(*, actor, uploaded_file, request=None) -> BulkUpload:
    """Store the CSV under MEDIA_ROOT, record the job and queue its task after the commit."""
    if not access.is_official(actor) and not getattr(actor, "is_superuser", False):
        raise NotAllowed(_("Only district and state officials may upload facilities."))
    name = getattr(uploaded_file, "name", "") or "upload.csv"
    extension = name.lower().rsplit(".", 1)[-1]
    if extension not in ("csv", "xlsx"):
        message = _("Upload a CSV or XLSX file.")
        raise DomainError(message, fields={"file": [message]})
    if uploaded_file.size > MAX_BYTES:
        raise DomainError(_("The file is larger than 20 MB."), fields={"file": [_("The file is larger than 20 MB.")]})
    _check_content(uploaded_file, extension)
    upload = BulkUpload(uploaded_by=actor, original_name=name[:200])
    upload.file.save(f"{secrets.token_hex(8)}.{extension}", uploaded_file, save=False)
    upload.save()
    audit_record(actor=actor, action="facility.bulk_upload", target=upload, details={"file": name}, request=request)
    from ..tasks import process_bulk_upload  # tasks import services; imported here to keep the layers one-way

    enqueue_on_commit(process_bulk_upload, upload.pk)  # a broker outage leaves it queued for the sweep below
    return upload


# A queued job older than this has lost its task message (the broker was down when it was sent).
REQUEUE_AFTER = datetime.timedelta(minutes=2)


def bulk_upload_requeue() -> int:
    """Re-send the task of every job still queued REQUEUE_AFTER after its upload; returns how many.

    Safe to repeat: the task claims a job once (`_claim`), so a job whose first message was only slow runs once.
    One query, then one task message per job.
    """
    from ..tasks import process_bulk_upload

    stale = BulkUpload.objects.filter(status=BulkUploadStatus.QUEUED, created_at__lt=timezone.now() - REQUEUE_AFTER)
    ids = list(stale.values_list("pk", flat=True))
    for upload_id in ids:
        process_bulk_upload.delay(upload_id)
    return len(ids)


@dataclass
class _Row:
    line: int
    values: dict
    key: tuple


def _decimal(value, bounds):
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if bounds[0] <= number <= bounds[1] else None


def _validate(line: int, raw: dict, districts: dict, allowed_districts) -> tuple[dict | None, list[tuple]]:
    """(values for the model, []) or (None, [(line, column, message), ...]) for one CSV row."""
    row = {column: (raw.get(column) or "").strip() for column in COLUMNS}
    errors = []

    def error(column, message):
        errors.append((line, column, str(message)))

    for column in REQUIRED:
        if not row[column]:
            error(column, _("This field is required."))
    if row["name"] and not row["name"][0].isalpha():
        error("name", _("The name must start with a letter."))
    row["facility_id"] = row["facility_id"].replace(" ", "").upper()
    if row["facility_id"] and not FACILITY_ID.match(row["facility_id"]):
        error("facility_id", _("An HFR ID is IN followed by 10 digits, e.g. IN2410000123."))
    if row["facility_type"] and row["facility_type"] not in FacilityType.values:
        error("facility_type", _("Unknown facility type."))
    ownership = row["ownership"] or Ownership.GOVERNMENT
    if ownership not in Ownership.values:
        error("ownership", _("Use G, P or PP."))
    district = None
    if row["district_lgd"]:
        district = districts.get(int(row["district_lgd"])) if row["district_lgd"].isdecimal() else None
        if district is None:
            error("district_lgd", _("No district has this LGD code."))
        elif allowed_districts is not None and district.pk not in allowed_districts:
            error("district_lgd", _("This district is not one of yours."))
    if row["pincode"] and not PINCODE.match(row["pincode"]):
        error("pincode", _("Enter a 6-digit pincode that does not start with 0."))
    if row["contact_mobile"] and not MOBILE.match(row["contact_mobile"]):
        error("contact_mobile", _("Enter a 10-digit mobile number starting with 6, 7, 8 or 9."))
    beds = 0
    if row["beds"]:
        if row["beds"].isdecimal():
            beds = int(row["beds"])
        else:
            error("beds", _("Beds must be a whole number."))
    systems = [code.strip() for code in row["systems_of_medicine"].split(";") if code.strip()]
    if any(code not in SystemOfMedicine.values for code in systems):
        error("systems_of_medicine", _("Choose systems of medicine from the list."))
    if row["service_type"] and row["service_type"] not in ServiceType.values:
        error("service_type", _("Use opd, ipd or opd_ipd."))
    if row["region"] and row["region"] not in Region.values:
        error("region", _("Use rural or urban."))
    latitude = longitude = None
    if row["latitude"] or row["longitude"]:
        latitude = _decimal(row["latitude"], INDIA_LATITUDE)
        longitude = _decimal(row["longitude"], INDIA_LONGITUDE)
        if latitude is None:
            error("latitude", _("This latitude is outside India (6.5 to 37.5)."))
        if longitude is None:
            error("longitude", _("This longitude is outside India (68 to 97.5)."))
    if errors:
        return None, errors
    values = {
        "facility_id": row["facility_id"] or None,
        "name": row["name"],
        "facility_type": row["facility_type"],
        "ownership": ownership,
        "district": district,
        "state_id": district.state_id,
        "address": row["address"],
        "pincode": row["pincode"],
        "contact_mobile": row["contact_mobile"],
        "beds": beds,
        "systems_of_medicine": systems or [SystemOfMedicine.MODERN],
        "service_type": row["service_type"] or (ServiceType.OPD_IPD if beds else ServiceType.OPD),
        "region": row["region"],
        "latitude": latitude,
        "longitude": longitude,
    }
    return values, []


def _read_csv(content: bytes) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig", errors="replace")))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _cell(value) -> str:
    """A spreadsheet cell as the text a CSV would hold (pincodes and mobiles arrive as numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(content: bytes) -> tuple[list[str], list[dict]]:
    """The first sheet: a header row, then one facility per row (openpyxl, read-only: rows stream)."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [_cell(value).strip() for value in next(rows, ())]
        return header, [dict(zip(header, map(_cell, row), strict=False)) for row in rows if any(row)]
    finally:
        workbook.close()


def _claim(upload_id: int, *, redelivered: bool) -> BulkUpload | None:
    """Queued → running, once: a duplicate message finds nothing to claim.

    A message the broker redelivered because its worker died mid-file may also take a running job: processing is
    idempotent per file (rows match by natural key), so the rerun finishes what the lost worker started.
    """
    statuses = [BulkUploadStatus.QUEUED, BulkUploadStatus.RUNNING] if redelivered else [BulkUploadStatus.QUEUED]
    claimed = BulkUpload.objects.filter(pk=upload_id, status__in=statuses).update(
        status=BulkUploadStatus.RUNNING, started_at=timezone.now()
    )
    return BulkUpload.objects.select_related("uploaded_by").get(pk=upload_id) if claimed else None


def _progress(upload: BulkUpload, **counts) -> None:
    for name, value in counts.items():
        setattr(upload, name, value)
    BulkUpload.objects.filter(pk=upload.pk).update(**counts)


# A district with at least this many new rows is read from HFR page by page (100 a page) instead of one search per
# row: 20,000 new facilities of one district are 200 searches, not 20,000.
HFR_PAGED_FROM = 200
HFR_PAGE = 100


def _hfr_entries(new: list[Facility]) -> dict[str, hfr.HfrFacility]:
    """What HFR has under the new rows' IDs (ID -> entry; an ID HFR does not know is missing). Raises AbdmError."""
    wanted: dict[tuple, set[str]] = {}
    for facility in new:
        wanted.setdefault((facility.state_id, facility.district_id), set()).add(facility.facility_id)
    found: dict[str, hfr.HfrFacility] = {}
    for (state_lgd, district_lgd), ids in wanted.items():
        if len(ids) < HFR_PAGED_FROM:
            continue
        page = 1
        while ids - found.keys():
            result = hfr.search_facilities(state_lgd=state_lgd, district_lgd=district_lgd, page=page, per_page=HFR_PAGE)
            found.update({item.facility_id: item for item in result.facilities if item.facility_id in ids})
            if page >= result.pages:
                break
            page += 1
    for facility in new:  # small districts, and IDs not in their district's listing (HFR has them elsewhere)
        if facility.facility_id not in found:
            item = hfr.facility_by_id(facility.facility_id)
            if item is not None:
                found[item.facility_id] = item
    return found


def _hfr_refusal(facility: Facility, found: hfr.HfrFacility | None) -> str | None:
    """Why a new row's HFR ID does not fit (hfr_check's words), or None."""
    if found is None:
        return _("HFR has no facility with this ID. Check it, or register the facility on HFR first.")
    differences = hfr.facility_disagreements(
        found,
        name=facility.name,
        state_lgd=facility.state_id,
        state_name=facility.state.name,
        district_lgd=facility.district_id,
        district_name=facility.district.name,
    )
    return " ".join(hfr_mismatch_message(d.field, d.registry_value) for d in differences) or None


def bulk_upload_process(*, upload_id: int, redelivered: bool = False) -> BulkUpload | None:
    """Validate and apply an uploaded CSV; idempotent per job, and per file (natural keys).

    A row names an existing facility by its HFR ID (or by name and pincode) and updates it; a new facility needs
    its HFR ID, checked against HFR (one search per new row), and is created verified (an official uploads the
    state's own facilities) with its registration as an HIP service of the bridge queued in the outbox.
    Queries: one per batch of existing-row lookups, one bulk insert and one bulk update per 2,000 rows, one outbox
    insert per new facility, a few progress updates. Writes the error report CSV (line, column, error) and one
    audit row.
    """
    upload = _claim(upload_id, redelivered=redelivered)
    if upload is None:
        return None
    try:
        return _process(upload)
    except Exception as error:
        _progress(upload, status=BulkUploadStatus.FAILED, finished_at=timezone.now(), message=str(error)[:300])
        raise


def _process(upload: BulkUpload) -> BulkUpload:
    actor = upload.uploaded_by
    with upload.file.open("rb") as handle:
        content = handle.read()
    try:
        header, raw_rows = _read_xlsx(content) if upload.file.name.endswith(".xlsx") else _read_csv(content)
    except Exception:  # noqa: BLE001 - any unreadable file is the uploader's to fix, reported on the job
        header, raw_rows = None, []
    if header is None:
        message = _("The file could not be read as CSV or XLSX.")
        _progress(upload, status=BulkUploadStatus.FAILED, finished_at=timezone.now(), message=message)
        return upload
    missing_columns = [column for column in REQUIRED if column not in header]
    if missing_columns:
        message = _("The file lacks the columns: %(columns)s.") % {"columns": ", ".join(missing_columns)}
        _progress(upload, status=BulkUploadStatus.FAILED, finished_at=timezone.now(), message=message)
        return upload
    _progress(upload, total_rows=len(raw_rows))
    districts = {d.pk: d for d in District.objects.select_related("state")}
    allowed = None if access.is_state_official(actor) or actor.is_superuser else access.officer_district_ids(actor)

    errors: list[tuple] = []
    valid: list[_Row] = []
    seen: dict[tuple, int] = {}
    for line, raw in enumerate(raw_rows, start=2):  # line 1 is the header
        values, row_errors = _validate(line, raw, districts, allowed)
        if row_errors:
            errors.extend(row_errors)
            continue
        key = (
            ("id", values["facility_id"])
            if values["facility_id"]
            else ("name", values["pincode"], values["name"].lower())
        )
        if key in seen:
            errors.append((line, "name", _("Same facility as line %(line)s.") % {"line": seen[key]}))
            continue
        seen[key] = line
        valid.append(_Row(line=line, values=values, key=key))

    by_id, by_name = {}, {}
    ids = [row.values["facility_id"] for row in valid if row.values["facility_id"]]
    for start in range(0, len(ids), BATCH):
        for facility in Facility.objects.filter(facility_id__in=ids[start : start + BATCH]):
            by_id[facility.facility_id] = facility
    pincodes = sorted({row.values["pincode"] for row in valid if not row.values["facility_id"]})
    for start in range(0, len(pincodes), BATCH):
        for facility in Facility.objects.filter(pincode__in=pincodes[start : start + BATCH]):
            by_name.setdefault((facility.pincode, facility.name.lower()), facility)

    now = timezone.now()
    to_create, to_update, new_rows = [], [], []
    for row in valid:
        values = row.values
        existing = by_id.get(values["facility_id"]) if values["facility_id"] else by_name.get(row.key[1:])
        if existing is None and not values["facility_id"]:
            errors.append((row.line, "facility_id", _("A new facility needs its HFR ID.")))
            continue
        if existing is not None:
            if allowed is not None and existing.district_id not in allowed:
                errors.append((row.line, "district_lgd", _("This district is not one of yours.")))
                continue
            if not hasattr(existing, "counted_district_id"):  # the district its counts are at (first row wins)
                existing.counted_district_id = existing.district_id
            before = [getattr(existing, column) for column in UPDATED_COLUMNS]
            for name in UPDATABLE:
                if name == "state":
                    existing.state_id = values["state_id"]
                elif name in values:
                    setattr(existing, name, values[name])
            # A row that changes nothing (the same list uploaded again) is matched, and not written.
            existing.bulk_changed = getattr(existing, "bulk_changed", False) or before != [
                getattr(existing, column) for column in UPDATED_COLUMNS
            ]
            to_update.append(existing)
        else:
            facility = Facility(
                **{k: v for k, v in values.items() if k != "state_id"},
                state=values["district"].state,
                status=FacilityStatus.VERIFIED,
                submitted_at=now,
                verified_at=now,
                verified_by=actor,
                created_by=actor,
            )
            new_rows.append((row, facility))
    if new_rows:
        try:
            on_hfr = _hfr_entries([facility for _row, facility in new_rows])
        except AbdmError as error:  # HFR not answering: no new facility now; the same file again later adds them
            on_hfr, refusal = None, abdm_refusal(error).message
        for row, facility in new_rows:
            problem = refusal if on_hfr is None else _hfr_refusal(facility, on_hfr.get(facility.facility_id))
            if problem:
                errors.append((row.line, "facility_id", problem))
            else:
                to_create.append(facility)
    _progress(upload, processed_rows=len(raw_rows) - len(to_create) - len(to_update))

    created = updated = 0
    for start in range(0, len(to_create), BATCH):
        with transaction.atomic():
            Facility.objects.bulk_create(to_create[start : start + BATCH])
            facilities_created_counted(to_create[start : start + BATCH])  # dashboard counters, same transaction
            for facility in to_create[start : start + BATCH]:  # each verified facility becomes an HIP on ABDM
                bridge_services.hip_service_enqueue(
                    facility_id=facility.facility_id, name=facility.name, active=True, subject=facility
                )
        created += len(to_create[start : start + BATCH])
        _progress(upload, processed_rows=upload.processed_rows + len(to_create[start : start + BATCH]))
    for start in range(0, len(to_update), BATCH):
        batch = to_update[start : start + BATCH]
        with transaction.atomic():
            # One UPDATE per changed row: bulk_update's CASE per column costs rows x rows to build (5,000 rows took
            # 80 s), and an unchanged row is not written at all.
            for facility in dict.fromkeys(f for f in batch if f.bulk_changed):
                Facility.objects.filter(pk=facility.pk).update(
                    updated_at=now, **{column: getattr(facility, column) for column in UPDATED_COLUMNS}
                )
            for facility in batch:  # a facility moved to another district moves its counts too
                facility_district_counted(facility=facility, old_district_id=facility.counted_district_id)
                facility.counted_district_id = facility.district_id  # the same facility twice moves once
        updated += len(batch)
        _progress(upload, processed_rows=upload.processed_rows + len(batch))

    errors.sort()
    report = io.StringIO()
    writer = csv.writer(report)
    writer.writerow(["line", "column", "error"])
    writer.writerows(errors)
    upload.error_report.save(f"{upload.uuid}-errors.csv", ContentFile(report.getvalue().encode("utf-8")), save=False)
    _progress(
        upload,
        error_report=upload.error_report.name,
        created_count=created,
        updated_count=updated,
        error_count=len({line for line, _column, _message in errors}),
        processed_rows=len(raw_rows),
        status=BulkUploadStatus.DONE,
        finished_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="facility.bulk_upload_done",
        target=upload,
        details={"rows": len(raw_rows), "created": created, "updated": updated, "rows_with_errors": upload.error_count},
    )
    return upload
