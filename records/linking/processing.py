"""Running a linking job: cut the file into chunks, then link each chunk in one transaction.

Crash safety comes from three things:
- a chunk's whole effect (care contexts, records, errors, reviews, counters, the job's totals and the chunk's
  DONE status) commits in one transaction, so a chunk is done exactly once or not at all;
- the claim on a chunk is its row lock (`SELECT ... FOR UPDATE SKIP LOCKED`): a worker that dies loses its
  connection, PostgreSQL drops the lock and rolls its work back, and the next worker takes the chunk;
- the natural keys (care context: facility + reference; record: facility + care context + record key) are
  unique, and rows go in with `INSERT ... SELECT ... ON CONFLICT (natural key) DO NOTHING RETURNING`, so a
  re-upload or two overlapping uploads link nothing twice and the rows not returned are counted as duplicates.
  The conflict target names the natural key's index: without one, every unique index (the uuids too) is probed
  before each insert, a fifth of the chunk's database time.

A chunk's rows go into a temporary staging table with COPY; set-based SQL links them from there.
"""

import contextlib
import datetime as dt
import gc
import hashlib
import json
import logging
import secrets
import shutil
import zipfile
from collections import defaultdict

from django.conf import settings
from django.core.files.base import File
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from abha.enums import AccountStatus
from abha.models import AbhaAccount, AbhaAddress
from core.counters import count_add
from core.enums import CountMetric
from core.services import audit_record

from ..abdm_linking import dispatch_after_commit
from ..enums import LinkingChunkStatus, LinkingFileFormat, LinkingJobStatus
from ..fhir import bundle_sha256, document_bundle, summarize
from ..models import CareContext, HealthRecord, LinkingChunk, LinkingJob, LinkingReview, LinkingRowError
from ..services import normal_name
from . import files, rows
from .models import AbdmCareContextLink, AbdmLinkStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
MAX_CANDIDATES = 5
MAX_PDF_BYTES = 10 * 1024 * 1024


# --- Preparing: cut the file into chunks ---------------------------------------------------------


class _HashingReader:
    """Iterates a binary file by lines while hashing what it read (one pass for both)."""

    def __init__(self, stream):
        self.stream = stream
        self.digest = hashlib.sha256()

    def __iter__(self):
        for line in self.stream:
            self.digest.update(line)
            yield line


def _extract_rows_file(job: LinkingJob) -> None:
    """For a ZIP: copy its CSV out (streamed) so that chunks can be read by byte range."""
    with job.file.open("rb") as stored, zipfile.ZipFile(stored) as archive:
        member = files.zip_rows_member(archive)
        with archive.open(member) as source:
            job.rows_file.save(f"{job.uuid}-rows.csv", File(source), save=False)


def job_prepare(*, job_id: int) -> LinkingJob | None:
    """Count the rows and record the chunks; QUEUED -> RUNNING. A second call for the same job does nothing."""
    with transaction.atomic():
        job = LinkingJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.status != LinkingJobStatus.QUEUED:
            return None
        if job.file_format == LinkingFileFormat.ZIP:
            _extract_rows_file(job)
        else:
            job.rows_file.name = job.file.name
        chunk_rows = settings.LINKING_CHUNK_ROWS
        chunks, current, total = [], [], 0
        with job.rows_file.open("rb") as stream, _cyclic_gc_paused():  # 2 lakh rows: 0.45 -> 0.30 s
            reader = _HashingReader(stream)
            for span in files.row_spans(reader, job.file_format):
                current.append(span)
                total += 1
                if len(current) == chunk_rows:
                    chunks.append(_chunk(job, len(chunks), current))
                    current = []
            if current:
                chunks.append(_chunk(job, len(chunks), current))
            shutil.copyfileobj(stream, _Discard())  # anything after the last row still counts for the hash
        LinkingChunk.objects.bulk_create(chunks, batch_size=2000)
        job.sha256 = reader.digest.hexdigest() if job.file_format != LinkingFileFormat.ZIP else _file_sha256(job)
        job.total = total
        job.started_at = timezone.now()
        job.status = LinkingJobStatus.RUNNING if chunks else LinkingJobStatus.DONE
        if not chunks:
            job.finished_at = job.started_at
            job.message = "empty"
        job.save()
    return job


class _Discard:
    def write(self, data):
        return len(data)


def _file_sha256(job: LinkingJob) -> str:
    digest = hashlib.sha256()
    with job.file.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _chunk(job: LinkingJob, index: int, spans: list) -> LinkingChunk:
    return LinkingChunk(
        job=job,
        index=index,
        first_row=spans[0].number,
        row_count=len(spans),
        start_byte=spans[0].start,
        end_byte=spans[-1].end,
    )


# --- Working: claim a chunk, link it, repeat ------------------------------------------------------


def job_work(*, job_id: int) -> int:
    """Process the job's chunks until none is left for this worker; returns how many it did."""
    done = 0
    while True:
        outcome = _process_next_chunk(job_id)
        if outcome is None:
            break
        done += outcome
    job_finish_if_complete(job_id=job_id)
    return done


def _process_next_chunk(job_id: int) -> int | None:
    """1 when a chunk was linked, 0 when one failed, None when there is nothing (left) to take."""
    chunk_id = None
    try:
        with transaction.atomic():
            job = LinkingJob.objects.select_related("facility", "uploaded_by").filter(pk=job_id).first()
            if job is None or job.status != LinkingJobStatus.RUNNING:
                return None  # finished, cancelled or failed: stop between chunks
            chunk = (
                LinkingChunk.objects.select_for_update(skip_locked=True)
                .filter(job_id=job_id, status=LinkingChunkStatus.PENDING)
                .order_by("index")
                .first()
            )
            if chunk is None:
                return None
            chunk_id = chunk.pk
            process_chunk(job, chunk)
        return 1
    except Exception as error:  # a bug or a bad surprise in one chunk must not stop the others
        if chunk_id is None:
            raise
        logger.exception("Linking job %s: chunk %s failed", job_id, chunk_id)
        _chunk_failed(chunk_id, error)
        return 0


def _chunk_failed(chunk_id: int, error: Exception) -> None:
    """Count the attempt; after MAX_ATTEMPTS the chunk's rows are reported as failed and the job goes on."""
    with transaction.atomic():
        chunk = LinkingChunk.objects.select_for_update().select_related("job").get(pk=chunk_id)
        if chunk.status != LinkingChunkStatus.PENDING:
            return
        chunk.attempts += 1
        chunk.last_error = f"{type(error).__name__}: {error}"[:300]
        if chunk.attempts >= MAX_ATTEMPTS:
            chunk.status = LinkingChunkStatus.FAILED
            chunk.finished_at = timezone.now()
            LinkingRowError.objects.bulk_create(
                LinkingRowError(job_id=chunk.job_id, row_number=number, field="row", code="internal")
                for number in range(chunk.first_row, chunk.first_row + chunk.row_count)
            )
            LinkingJob.objects.filter(pk=chunk.job_id).update(
                processed=F("processed") + chunk.row_count, failed_rows=F("failed_rows") + chunk.row_count
            )
        chunk.save(update_fields=["attempts", "last_error", "status", "finished_at"])


def job_finish_if_complete(*, job_id: int) -> bool:
    """RUNNING -> DONE (or FAILED when a chunk failed for good) once no chunk is pending."""
    if LinkingChunk.objects.filter(job_id=job_id, status=LinkingChunkStatus.PENDING).exists():
        return False
    failed = LinkingChunk.objects.filter(job_id=job_id, status=LinkingChunkStatus.FAILED).exists()
    return bool(
        LinkingJob.objects.filter(pk=job_id, status=LinkingJobStatus.RUNNING).update(
            status=LinkingJobStatus.FAILED if failed else LinkingJobStatus.DONE,
            finished_at=timezone.now(),
            message="chunk_failed" if failed else "",
        )
    )


def jobs_to_resume() -> list[tuple[int, str]]:
    """(job id, what to run) for open jobs nobody is moving: queued ones (prepare) and running ones with a
    pending chunk that no worker holds (work). Extra workers are harmless: they find nothing to claim."""
    stale_queued = timezone.now() - dt.timedelta(seconds=settings.LINKING_RESUME_AFTER_SECONDS)
    todo = [
        (job_id, "prepare")
        for job_id in LinkingJob.objects.filter(status=LinkingJobStatus.QUEUED, created_at__lt=stale_queued)
        .values_list("pk", flat=True)
        .order_by("pk")
    ]
    with transaction.atomic():
        running = LinkingJob.objects.filter(status=LinkingJobStatus.RUNNING).values_list("pk", flat=True)
        free = (
            LinkingChunk.objects.select_for_update(skip_locked=True)
            .filter(job_id__in=list(running), status=LinkingChunkStatus.PENDING)
            .values_list("job_id", flat=True)
        )
        todo += [(job_id, "work") for job_id in sorted(set(free))]
    return todo


# --- One chunk ---------------------------------------------------------------------------------------


def _read_chunk_rows(job: LinkingJob, chunk: LinkingChunk, today: dt.date) -> list[rows.LinkRow]:
    with job.rows_file.open("rb") as stream:
        data = files.read_range(stream, chunk.start_byte, chunk.end_byte)
        check_bytes = not files.is_utf8(data)  # rows are checked one by one only when the chunk has bad bytes
        if job.file_format == LinkingFileFormat.NDJSON:
            return [
                rows.ndjson_row(number, line, today=today, check_bytes=check_bytes)
                for number, line in enumerate(files.ndjson_rows(data), start=chunk.first_row)
            ]
        header = files.csv_header(stream)
    in_zip = job.file_format == LinkingFileFormat.ZIP
    return [
        rows.csv_row(number, header, fields, today=today, in_zip=in_zip, check_bytes=check_bytes)
        for number, fields in enumerate(files.csv_rows(data), start=chunk.first_row)
    ]


def _full_name(first: str, middle: str, last: str) -> str:
    return " ".join(part for part in (first, middle, last) if part)


_ACCOUNT_COLUMNS = "a.id, a.status, a.first_name, a.middle_name, a.last_name, a.abha_number"


def _accounts(sql: str, values: set, *extra) -> list[tuple]:
    """Rows of one look-up for a chunk, its values as one array parameter: an ORM `__in` of 5,000 values is built and
    quoted value by value in Python (a tenth of the chunk's time), an array is one parameter."""
    if not values:
        return []
    tables = {"account": AbhaAccount._meta.db_table, "address": AbhaAddress._meta.db_table}
    with connection.cursor() as cursor:
        cursor.execute(sql.format(columns=_ACCOUNT_COLUMNS, **tables), [list(values), *extra])
        return cursor.fetchall()


def _match_patients(batch: list[rows.LinkRow]) -> None:
    """Set `patient_id` (certain), `candidates` (needs review) or an error on each row. Three queries a chunk."""
    numbers = {row.abha_number for row in batch if row.abha_number and not row.errors}
    by_number = {
        account[5]: account
        for account in _accounts("SELECT {columns} FROM {account} a WHERE a.abha_number = ANY(%s)", numbers)
    }
    locals_ = {row.abha_local for row in batch if row.abha_local and not row.errors} | rows.bundle_address_locals(batch)
    by_local = {
        local: tuple(account)
        for local, *account in _accounts(
            # lower(local): the case-insensitive unique index (AbhaAddress.objects.named_any)
            "SELECT d.local, {columns} FROM {address} d JOIN {account} a ON a.id = d.account_id "
            "WHERE lower(d.local) = ANY(%s)",
            {local.lower() for local in locals_},
        )
    }
    mobiles = {row.mobile for row in batch if row.mobile and not row.errors}
    on_mobile = defaultdict(list)
    for account in _accounts(
        "SELECT {columns}, a.mobile, a.gender, a.year_of_birth FROM {account} a "
        "WHERE a.mobile = ANY(%s) AND a.status = %s",
        mobiles,
        AccountStatus.ACTIVE.value,
    ):
        on_mobile[account[6]].append(account)

    for row in batch:
        row.patient_id, row.candidates, row.patient_abha, row.patient_name = None, [], "", row.name
        if row.errors:
            continue
        if row.abha_number or row.abha_local:
            account = by_number.get(row.abha_number) if row.abha_number else by_local.get(row.abha_local)
            column = "abha_number" if row.abha_number else "abha_address"
            if account is None:
                row.error(column, "abha_unknown")
            elif account[1] != AccountStatus.ACTIVE:
                row.error(column, "abha_inactive")
            else:
                row.patient_id, row.patient_abha = account[0], account[5]
                row.patient_name = _full_name(*account[2:5])
            continue
        _match_demographics(row, on_mobile.get(row.mobile, []))
    for row in batch:
        rows.check_bundle_patient(row, by_local)


def _match_demographics(row: rows.LinkRow, accounts: list) -> None:
    """Certain only when exactly one account on the mobile has the same name, gender and year of birth;
    accounts that share the mobile and part of the rest go to a person; nothing close is an error."""
    name = normal_name(row.name)
    exact, close = [], []
    for account in accounts:
        names = {normal_name(_full_name(*account[2:5])), normal_name(_full_name(account[2], "", account[4]))}
        same_name = name in names
        same_person_facts = account[7] == row.gender and account[8] == row.year_of_birth
        if same_name and same_person_facts:
            exact.append(account)
        elif same_name or same_person_facts:
            close.append(account)
    if len(exact) == 1:
        row.patient_id, row.patient_abha = exact[0][0], exact[0][5]
    elif exact or close:
        row.candidates = [account[0] for account in (exact or close)][:MAX_CANDIDATES]
    else:
        row.error("mobile", "no_match")


def _attach_pdfs(job: LinkingJob, batch: list[rows.LinkRow]) -> None:
    """Rows of a ZIP that name a PDF get a document bundle around it (read from the archive one by one)."""
    wanted = [row for row in batch if row.pdf_path and not row.errors]
    if not wanted or job.file_format != LinkingFileFormat.ZIP:
        return
    with job.file.open("rb") as stored, zipfile.ZipFile(stored) as archive:
        names = set(archive.namelist())
        for row in wanted:
            path = row.pdf_path.lstrip("/")
            if path not in names:
                row.error("pdf_path", "pdf_missing")
                continue
            info = archive.getinfo(path)
            if info.file_size > MAX_PDF_BYTES:
                row.error("pdf_path", "pdf_too_large")
                continue
            data = archive.read(info)
            if not data.startswith(b"%PDF"):
                row.error("pdf_path", "pdf_not_pdf")
                continue
            row.bundle = document_bundle(
                hi_type=row.hi_type,
                title=row.display,
                date=row.visit_date.isoformat(),
                content_type="application/pdf",
                data=data,
                patient_abha=row.patient_abha,
                patient_name=row.patient_name,
                facility_id=job.facility.facility_id,
                facility_name=job.facility.name,
            )


_STAGE_COLUMNS = (
    "row_number, patient_id, cc_uuid, rec_uuid, reference, display, visit_date, hi_type, record_key, title, "
    "bundle, summary, sha, p_name, p_mobile, p_gender, p_yob, first_of_reference, first_of_record"
)
_STAGE_TABLE = """
CREATE TEMP TABLE linking_stage (
    row_number integer, patient_id bigint, cc_uuid uuid, rec_uuid uuid, reference varchar(64),
    display varchar(200), visit_date date, hi_type varchar(24), record_key varchar(128), title varchar(200),
    bundle text, summary text, sha varchar(64), p_name varchar(200), p_mobile varchar(10), p_gender varchar(1),
    p_yob smallint, first_of_reference boolean, first_of_record boolean
) ON COMMIT DROP
"""


def _stage_values(row: rows.LinkRow, seen_refs: set, seen_records: set, ids: tuple[str, str]) -> tuple:
    """One staging row. `ids`: two random 128-bit hex values (care context uuid, record uuid)."""
    date = row.visit_date.isoformat()
    if row.bundle is not None:
        facts_key = row.bundle_facts.record_key if row.bundle_facts else row.bundle.get("id", "")
        record_key = row.record_id or facts_key or row.hi_type
        title = str((row.bundle_facts.title if row.bundle_facts else "") or row.display)[:200]
        bundle_text = json.dumps(row.bundle, ensure_ascii=False)
        summary_text = json.dumps(summarize(row.bundle), ensure_ascii=False)
        sha = bundle_sha256(row.bundle)
    else:  # its index document is built on read from the record's fields (linking.documents)
        record_key = row.record_id or row.hi_type
        title = row.display
        bundle_text, summary_text, sha = None, None, ""
    first_of_reference = row.reference not in seen_refs
    seen_refs.add(row.reference)
    first_of_record = (row.reference, record_key) not in seen_records
    seen_records.add((row.reference, record_key))
    unlinked = row.patient_id is None
    return (
        row.number,
        row.patient_id,
        ids[0],  # 128 random bits: a UUID column value
        ids[1],
        row.reference,
        row.display,
        date,
        row.hi_type,
        record_key[:128],
        title,
        bundle_text,
        summary_text,
        sha,
        row.name if unlinked else "",
        row.mobile if unlinked else "",
        row.gender if unlinked else "",
        row.year_of_birth if unlinked else None,
        first_of_reference,
        first_of_record,
    )


def _ids(random_hex: str, index: int) -> tuple[str, str]:
    start = 64 * index
    return random_hex[start : start + 32], random_hex[start + 32 : start + 64]


def _stage(values: list[tuple]) -> None:
    with connection.cursor() as cursor:
        # Dropped after use too; this covers a caller's outer transaction (savepoints) holding an old one.
        cursor.execute("DROP TABLE IF EXISTS linking_stage")
        cursor.execute(_STAGE_TABLE)
        with cursor.cursor.copy(f"COPY linking_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)


# One care context by the facility's reference, for each row of what precedes it (`s.reference`): one probe of the
# unique facility + reference index per row. A plain join let the planner choose by statistics, which lag behind a
# table growing by lakhs within one job (a facility's first big upload): it hash-joined all of the facility's care
# contexts, each chunk slower than the last (2 lakh rows: 50 ms, then 320 ms a chunk). OFFSET 0 keeps the subquery
# from being flattened into such a join.
_CARE_CONTEXT_BY_REFERENCE = (
    f"SELECT id, facility_id, patient_id, date FROM {CareContext._meta.db_table} "  # noqa: S608 - model meta
    "WHERE facility_id = %s AND reference = s.reference OFFSET 0"
)


def _link_staged(job: LinkingJob, now) -> tuple[list[int], dict[int, int], list[tuple[int, int]]]:
    """Insert care contexts and records from the staging table, and note the care contexts linked to a patient for
    ABDM (one AbdmCareContextLink each, in the records' statement). Returns (rows whose reference belongs to another
    patient, {row number: care context id} for the rows whose record was inserted, the sorted (facility id,
    patient id) pairs with care contexts newly noted for ABDM)."""
    now_value = connection.ops.adapt_datetimefield_value(now)
    cc_table, record_table = CareContext._meta.db_table, HealthRecord._meta.db_table
    link_table = AbdmCareContextLink._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {cc_table} (uuid, created_at, updated_at, facility_id, patient_id, patient_name,
                patient_mobile, patient_gender, patient_year_of_birth, reference, display, date, created_by_id)
            SELECT s.cc_uuid, %s, %s, %s, s.patient_id, s.p_name, s.p_mobile, s.p_gender, s.p_yob, s.reference,
                s.display, s.visit_date, %s
            FROM linking_stage s WHERE s.first_of_reference
            ON CONFLICT (facility_id, reference) DO NOTHING
            """,  # noqa: S608 - table names from model meta
            [now_value, now_value, job.facility_id, job.uploaded_by_id],
        )
        # One statement: each row's care context (one index probe), the rows whose reference is another patient's
        # (reported, not linked), the records, and the ABDM notes of the care contexts whose patient is known: one
        # per care context, with the first row that linked it (the job's error report names it), written here as
        # the records are, not row by row; records.abdm_links_dispatch sends them after the commit.
        cursor.execute(
            f"""
            WITH matched AS (
                SELECT s.row_number, s.rec_uuid, s.hi_type, s.record_key, s.title, s.bundle, s.summary, s.sha,
                    s.first_of_record, c.id AS cc_id, c.facility_id, c.patient_id, c.date,
                    c.patient_id IS NOT DISTINCT FROM s.patient_id AS same_patient
                FROM linking_stage s CROSS JOIN LATERAL ({_CARE_CONTEXT_BY_REFERENCE}) c
            ), inserted AS (
                INSERT INTO {record_table} (uuid, created_at, updated_at, care_context_id, facility_id, patient_id,
                    hi_type, record_key, record_date, version, is_current, supersedes_id, title, bundle, summary,
                    bundle_sha256, created_by_id)
                SELECT m.rec_uuid, %s, %s, m.cc_id, m.facility_id, m.patient_id, m.hi_type, m.record_key, m.date, 1,
                    TRUE, NULL, m.title, CAST(m.bundle AS jsonb), CAST(m.summary AS jsonb), m.sha, %s
                FROM matched m
                WHERE m.first_of_record AND m.same_patient
                ON CONFLICT (care_context_id, record_key) WHERE is_current DO NOTHING
                RETURNING uuid, care_context_id, facility_id, patient_id
            ), linked AS (
                SELECT m.row_number, i.care_context_id, i.facility_id, i.patient_id
                FROM inserted i JOIN matched m ON m.rec_uuid = i.uuid
            ), noted AS (
                INSERT INTO {link_table} (care_context_id, facility_id, patient_id, job_id, row_number, status,
                    attempts, error_code, error_message, created_at)
                SELECT DISTINCT ON (care_context_id) care_context_id, facility_id, patient_id, %s, row_number, %s,
                    0, '', '', %s
                FROM linked WHERE patient_id IS NOT NULL
                ORDER BY care_context_id, row_number
                ON CONFLICT (care_context_id) DO NOTHING
                RETURNING facility_id, patient_id
            )
            SELECT row_number, care_context_id, NULL::bigint, NULL::bigint FROM linked
            UNION ALL
            SELECT row_number, NULL::bigint, NULL::bigint, NULL::bigint FROM matched WHERE NOT same_patient
            UNION ALL
            SELECT DISTINCT NULL::integer, NULL::bigint, facility_id, patient_id FROM noted
            """,  # noqa: S608
            [job.facility_id, now_value, now_value, job.uploaded_by_id, job.pk, AbdmLinkStatus.PENDING, now_value],
        )
        other_patient, linked_rows, pairs = [], {}, []
        for number, cc_id, facility_id, patient_id in cursor.fetchall():
            if number is None:
                pairs.append((facility_id, patient_id))
            elif cc_id is None:
                other_patient.append(number)
            else:
                linked_rows[number] = cc_id
        cursor.execute("DROP TABLE linking_stage")
    return other_patient, linked_rows, sorted(pairs)


def _record_key(row: rows.LinkRow) -> str:
    """The natural key's record part, as _stage_values writes it (a PDF row's bundle is not built yet: its key is
    the row's record id or its hiType, as for a row without a bundle)."""
    if row.bundle is not None:
        facts_key = row.bundle_facts.record_key if row.bundle_facts else row.bundle.get("id", "")
        return (row.record_id or facts_key or row.hi_type)[:128]
    return (row.record_id or row.hi_type)[:128]


def _already_linked(job: LinkingJob, batch: list[rows.LinkRow]) -> set[int]:
    """Row numbers whose record is already at this facility for the same patient (a re-upload, an overlap): they
    are duplicates, skipped before any document is built or staged. One query (the references as one array
    parameter: the ORM's IN list of 5,000 values cost more to build than the query takes)."""
    candidates = [row for row in batch if not row.errors]
    if not candidates:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.reference, r.record_key, c.patient_id
            FROM unnest(%s::varchar[]) AS s(reference)
            CROSS JOIN LATERAL ({_CARE_CONTEXT_BY_REFERENCE}) c
            JOIN {HealthRecord._meta.db_table} r ON r.care_context_id = c.id AND r.is_current
            """,  # noqa: S608 - table names from model meta
            [list({row.reference for row in candidates}), job.facility_id],
        )
        existing = set(cursor.fetchall())
    return {row.number for row in candidates if (row.reference, _record_key(row), row.patient_id) in existing}


@contextlib.contextmanager
def _cyclic_gc_paused():
    """A chunk allocates a dozen objects per row and frees them by reference counting (they hold no cycles). Left
    on, the cyclic collector, triggered by those allocations, walked the worker's whole heap again and again: a
    third of the chunk's Python time (0.29 -> 0.20 CPU-s per 10,000 rows without it)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def process_chunk(job: LinkingJob, chunk: LinkingChunk) -> dict:
    """Link one chunk inside the caller's transaction (which holds the chunk's row lock)."""
    with _cyclic_gc_paused():
        return _process_chunk(job, chunk)


def _process_chunk(job: LinkingJob, chunk: LinkingChunk) -> dict:
    now = timezone.now()
    batch = _read_chunk_rows(job, chunk, timezone.localdate())
    _match_patients(batch)
    skipped = _already_linked(job, batch)
    _attach_pdfs(job, [row for row in batch if row.number not in skipped])
    ready = [row for row in batch if not row.errors and row.number not in skipped]
    seen_refs, seen_records = set(), set()
    random_hex = secrets.token_bytes(32 * len(ready)).hex()  # one call: two 128-bit ids per row
    staged = [_stage_values(row, seen_refs, seen_records, _ids(random_hex, index)) for index, row in enumerate(ready)]
    other_patient, linked_rows, pairs = [], {}, []
    if staged:
        _stage(staged)
        other_patient, linked_rows, pairs = _link_staged(job, now)
    by_number = {row.number: row for row in batch}
    for number in other_patient:
        by_number[number].error("care_context_reference", "other_patient")

    errors = [
        LinkingRowError(job=job, row_number=row.number, field=column, code=code, detail=detail)
        for row in batch
        for column, code, detail in row.errors
    ]
    LinkingRowError.objects.bulk_create(errors, batch_size=2000)
    linked = sum(1 for number in linked_rows if by_number[number].patient_id is not None)
    reviews = [
        LinkingReview(
            job=job,
            facility_id=job.facility_id,
            row_number=number,
            care_context_id=cc_id,
            candidate_ids=by_number[number].candidates,
        )
        for number, cc_id in linked_rows.items()
        if by_number[number].patient_id is None
    ]
    LinkingReview.objects.bulk_create(reviews, batch_size=2000)
    # Linked on ABDM after this commit (records.abdm_links_dispatch): only the notes were written, with the records.
    if pairs:
        dispatch_after_commit(pairs)
    failed = sum(1 for row in batch if row.errors)
    counts = {
        "processed": len(batch),
        "linked": linked,
        "needs_review": len(reviews),
        "failed": failed,
        "duplicates": len(batch) - failed - linked - len(reviews),
    }
    if linked:  # the dashboard's counter, in the same transaction as the records
        count_add(
            metric=CountMetric.RECORDS_LINKED,
            district_lgd=job.facility.district_id,
            facility_key=job.facility_id,
            delta=linked,
        )
    LinkingJob.objects.filter(pk=job.pk).update(
        processed=F("processed") + counts["processed"],
        linked=F("linked") + linked,
        duplicates=F("duplicates") + counts["duplicates"],
        needs_review=F("needs_review") + len(reviews),
        failed_rows=F("failed_rows") + failed,
        updated_at=now,
    )
    chunk.status = LinkingChunkStatus.DONE
    chunk.finished_at = now
    chunk.save(update_fields=["status", "finished_at"])
    audit_record(
        actor=job.uploaded_by,
        action="records.linking_chunk",
        target=job,
        details={"chunk": chunk.index, "first_row": chunk.first_row, **counts},
    )
    return counts
