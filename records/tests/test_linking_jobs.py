"""Record-linking jobs: upload checks, matching, error report, idempotence, reviews, cancel, crash safety."""

import csv
import datetime as dt
import io
import json
import threading
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from abha.enums import AccountStatus, Gender
from abha.identifiers import abha_number_display
from abha.tests.factories import AbhaAccountFactory
from core import counters
from core.enums import CountMetric, Role
from core.tests.factories import UserFactory
from facilities.enums import FacilityStatus
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records import selectors as record_selectors
from records.enums import HiType, LinkingChunkStatus, LinkingJobStatus, LinkingReviewStatus
from records.fhir import validate_bundle
from records.linking import processing, selectors, services
from records.linking.documents import record_bundle, record_summary
from records.linking.files import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from records.models import CareContext, HealthRecord, LinkingChunk, LinkingJob, LinkingReview

from .factories import bundle_for

COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
TODAY = timezone.localdate()
VISIT = (TODAY - dt.timedelta(days=10)).isoformat()


def csv_bytes(rows: list[dict], columns=COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in columns})
    return out.getvalue().encode()


def upload(content: bytes, name: str = "batch.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def run(job: LinkingJob) -> LinkingJob:
    """What the Celery tasks do, in this process: prepare, then work until no chunk is left."""
    processing.job_prepare(job_id=job.pk)
    processing.job_work(job_id=job.pk)
    job.refresh_from_db()
    return job


def visit(reference, **values):
    return {"care_context_reference": reference, "visit_date": VISIT, "hi_type": "OPConsultation", **values}


@pytest.fixture
def hospital(db):
    facility = FacilityFactory(name="Sir T General Hospital")
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    return facility, staff


@pytest.fixture
def people(db):
    asha = AbhaAccountFactory(first_name="Asha", last_name="Patel", mobile="9811111111", year_of_birth=1990)
    ravi = AbhaAccountFactory(first_name="Ravi", last_name="Shah", mobile="9822222222", gender=Gender.MALE)
    # Two people on one phone (a family): the same mobile, different names and years.
    mira = AbhaAccountFactory(first_name="Mira", last_name="Desai", mobile="9833333333", year_of_birth=1985)
    meena = AbhaAccountFactory(first_name="Meena", last_name="Desai", mobile="9833333333", year_of_birth=2012)
    return asha, ravi, mira, meena


def mixed_rows(people):
    asha, ravi, mira, meena = people
    return [
        visit("OPD-1", abha_number=asha.abha_number),  # row 2: linked
        visit("OPD-2", abha_number=abha_number_display(ravi.abha_number), hi_type="prescription"),  # row 3
        visit("OPD-3", abha_address=f"{mira.abha_number}@sbx"),  # row 4: by address
        visit("OPD-4", mobile="9833333333", name="Meena  Desai", gender="F", year_of_birth="2012"),  # row 5: exact
        visit("OPD-5", mobile="9833333333", name="M. Desai", gender="F", year_of_birth="1985"),  # row 6: review
        visit("OPD-6", abha_number="91000000000001"),  # row 7: any 14 digits (ABDM publishes no check digit), unknown
        visit("OPD-7", abha_number="99123456789017"),  # row 8: Luhn-valid, unknown
        visit("OPD-8", abha_number=asha.abha_number, hi_type="XRay"),  # row 9
        visit("", abha_number=asha.abha_number),  # row 10: no reference
        visit("OPD-9", abha_number=asha.abha_number, visit_date=(TODAY + dt.timedelta(days=2)).isoformat()),  # row 11
        visit("OPD-10", abha_number=asha.abha_number, fhir_bundle='{"resourceType": "Bundle", '),  # row 12
        visit("OPD-11", mobile="12345", name="Asha Patel", gender="F", year_of_birth="1990"),  # row 13
        visit("OPD-12", mobile="9844444444", name="Nobody Here", gender="M", year_of_birth="1970"),  # row 14
        visit(
            "OPD-13",
            abha_number=asha.abha_number,
            hi_type="Prescription",
            fhir_bundle=json.dumps(bundle_for(HiType.PRESCRIPTION, key="rx-13")),
        ),  # row 15: linked with its own bundle
        visit("OPD-1", abha_number=asha.abha_number),  # row 16: the same record as row 2 again
    ]


def test_upload_answers_202_with_the_job_url_and_queues_nothing_before_commit(hospital, people, api_as):
    facility, staff = hospital
    response = api_as(staff).post(
        "/api/v1/linking-jobs/",
        {"file": upload(csv_bytes(mixed_rows(people))), "facility": facility.facility_id},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["url"] == f"/api/v1/linking-jobs/{body['uuid']}/"
    assert response["Location"] == body["url"]
    job = LinkingJob.objects.get(uuid=body["uuid"])
    assert job.file.name.startswith("linking/") and job.file.name.endswith(".csv")
    assert "batch" not in job.file.name  # stored under a random name, never the uploader's


def test_a_mixed_batch_is_linked_reported_and_a_reupload_links_nothing_twice(hospital, people, api_as):
    facility, staff = hospital
    asha, ravi, mira, meena = people
    client = api_as(staff)
    before = counters.total(CountMetric.RECORDS_LINKED)
    content = csv_bytes(mixed_rows(people))
    body = client.post(
        "/api/v1/linking-jobs/", {"file": upload(content), "facility": facility.facility_id}, format="multipart"
    ).json()
    run(LinkingJob.objects.get(uuid=body["uuid"]))

    status = client.get(body["url"]).json()
    assert status["status"] == "done"
    assert (status["total"], status["processed"]) == (15, 15)
    assert (status["linked"], status["needs_review"], status["duplicates"], status["failed"]) == (5, 1, 1, 8)
    assert status["rows_per_second"] > 0
    assert counters.total(CountMetric.RECORDS_LINKED) == before + 5

    assert set(HealthRecord.objects.filter(facility=facility).values_list("patient__first_name", flat=True)) == {
        "Asha",
        "Ravi",
        "Mira",
        "Meena",
        None,  # the row waiting for review: kept, not linked
    }
    linked_rx = HealthRecord.objects.get(care_context__reference="OPD-13")
    assert linked_rx.record_key == "rx-13" and linked_rx.hi_type == "Prescription"
    index_record = HealthRecord.objects.get(care_context__reference="OPD-1")
    # A row without a bundle is stored without one; its index document is built when read, from its fields.
    assert (index_record.bundle, index_record.summary, index_record.bundle_sha256) == (None, None, "")
    assert record_summary(index_record)["custodian"].startswith("Sir T General Hospital")
    index_bundle = record_bundle(index_record)
    assert index_bundle["id"] == str(index_record.uuid)
    assert index_bundle["entry"][0]["resource"]["type"]["coding"][0]["code"] == "371530004"
    validate_bundle(index_bundle, index_record.hi_type, patient=asha)
    # The citizen sees the newly linked records in their account.
    assert {r.care_context.reference for r in record_selectors.own_records(asha)} == {"OPD-1", "OPD-13"}

    report = client.get(f"{body['url']}errors.csv")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert lines[0] == ["row", "column", "reason"]
    by_row = {int(row): (column, reason) for row, column, reason in lines[1:]}
    assert sorted(by_row) == [7, 8, 9, 10, 11, 12, 13, 14]
    assert by_row[7] == ("abha_number", "No ABHA has this number or address.")
    assert by_row[8] == ("abha_number", "No ABHA has this number or address.")
    assert by_row[9][0] == "hi_type" and "OPConsultation" in by_row[9][1]
    assert by_row[10] == ("care_context_reference", "The care context reference is missing.")
    assert by_row[11] == ("visit_date", "The visit date is in the future.")
    assert by_row[12] == ("fhir_bundle", "The FHIR bundle is not valid JSON.")
    assert by_row[13][0] == "mobile"
    assert by_row[14] == ("mobile", "No ABHA matches this mobile, name, gender and year of birth.")

    # The same file again: nothing new, every valid row a duplicate, the same errors.
    again = client.post(
        "/api/v1/linking-jobs/", {"file": upload(content), "facility": facility.facility_id}, format="multipart"
    ).json()
    second = run(LinkingJob.objects.get(uuid=again["uuid"]))
    assert (second.linked, second.needs_review, second.duplicates, second.failed_rows) == (0, 0, 7, 8)
    assert HealthRecord.objects.filter(facility=facility).count() == 6
    assert counters.total(CountMetric.RECORDS_LINKED) == before + 5
    assert LinkingReview.objects.count() == 1


def test_a_reference_of_another_patient_fails_that_row_only(hospital, people):
    facility, staff = hospital
    asha, ravi, *_ = people
    rows = [
        visit("OPD-1", abha_number=asha.abha_number),
        visit("OPD-1", abha_number=ravi.abha_number, hi_type="Prescription"),
    ]
    job = run(services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows))))
    assert (job.linked, job.failed_rows) == (1, 1)
    assert job.row_errors.get().code == "other_patient"
    assert CareContext.objects.get(reference="OPD-1").patient == asha


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b"", "batch.csv", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "batch.csv", "not a text file"),
        ("abha_number,hi_type\n".encode("utf-16"), "batch.csv", "UTF-16"),
        ("name,ŝ\n".encode("cp1252", errors="replace") + b"\xe9\xe8\n", "batch.csv", "not UTF-8"),
        (b"patient,hitype,date\n1,2,3\n", "batch.csv", "Expected columns: abha_number"),
        (b"hello", "batch.xlsx", ".csv, .ndjson or .zip"),
        (b"not json\n", "batch.ndjson", "not JSON"),
        (b"PK\x03\x04garbage", "batch.zip", "damaged"),
    ],
)
def test_bad_files_are_refused_at_upload_with_a_clear_message(hospital, api_as, content, name, words):
    facility, staff = hospital
    response = api_as(staff).post(
        "/api/v1/linking-jobs/", {"file": upload(content, name), "facility": facility.facility_id}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()["error"]["fields"]["file"])
    assert not LinkingJob.objects.exists()


def test_wrong_columns_lists_missing_unknown_and_expected(hospital, api_as):
    facility, staff = hospital
    content = b"abha_number,hitype,visit_date\n"
    error = (
        api_as(staff)
        .post("/api/v1/linking-jobs/", {"file": upload(content), "facility": facility.facility_id}, format="multipart")
        .json()["error"]
    )
    assert error["code"] == "bad_columns"
    assert "Missing columns: abha_address" in error["message"] and "Unknown columns: hitype" in error["message"]
    assert ", ".join(REQUIRED_COLUMNS) in error["message"]


def test_a_file_over_the_limit_is_refused_before_it_is_read(hospital, api_as, settings):
    facility, staff = hospital
    settings.LINKING_MAX_UPLOAD_BYTES = 2048
    response = api_as(staff).post(
        "/api/v1/linking-jobs/",
        {"file": upload(b"x" * (2 * 1024 * 1024)), "facility": facility.facility_id},
        format="multipart",
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]["message"]
    small_but_over = api_as(staff).post(
        "/api/v1/linking-jobs/", {"file": upload(b"y" * 4096), "facility": facility.facility_id}, format="multipart"
    )
    assert small_but_over.status_code == 400 and "larger than" in small_but_over.json()["error"]["message"]


def test_who_may_upload_and_see_jobs(hospital, people, api_as):
    facility, staff = hospital
    other_staff = MembershipFactory(facility=FacilityFactory(), user__role=Role.FACILITY_STAFF).user
    state = UserFactory(role=Role.STATE_OFFICIAL)
    citizen = people[0].user
    content = csv_bytes(mixed_rows(people)[:1])

    def post(user, facility_id=facility.facility_id):
        return api_as(user).post(
            "/api/v1/linking-jobs/", {"file": upload(content), "facility": facility_id}, format="multipart"
        )

    assert post(other_staff).status_code == 403
    assert post(citizen).status_code == 403
    assert APIClientAnonymous().post("/api/v1/linking-jobs/").status_code in (401, 403)
    assert post(staff, "IN0000000000").status_code == 400
    unverified = FacilityFactory(status=FacilityStatus.SUBMITTED)
    MembershipFactory(facility=unverified, user=staff)
    assert post(staff, unverified.facility_id).status_code == 409
    by_state = post(state)
    assert by_state.status_code == 202
    url = by_state.json()["url"]
    assert api_as(staff).get(url).status_code == 200
    for outsider in (other_staff, citizen):
        assert api_as(outsider).get(url).status_code == 404
        assert api_as(outsider).get(f"{url}errors.csv").status_code == 404
        assert api_as(outsider).post(f"{url}cancel/").status_code == 404
    assert [job["uuid"] for job in api_as(other_staff).get("/api/v1/linking-jobs/").json()["results"]] == []


class APIClientAnonymous:
    def post(self, url):
        from rest_framework.test import APIClient

        return APIClient().post(url, {}, format="multipart")


def test_needs_review_rows_are_linked_or_rejected_by_staff(hospital, people, api_as):
    facility, staff = hospital
    asha, ravi, mira, meena = people
    rows = [
        visit("R-1", mobile="9833333333", name="M Desai", gender="F", year_of_birth="1985"),
        visit("R-2", mobile="9833333333", name="Mira D", gender="F", year_of_birth="1985"),
    ]
    job = run(services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows))))
    assert job.needs_review == 2
    client = api_as(staff)
    listed = client.get("/api/v1/linking-reviews/").json()["results"]
    assert [r["row_number"] for r in listed] == [2, 3]
    [candidate] = listed[0]["candidates"]
    assert candidate["abha_number_masked"] == "XX-XXXX-XXXX-" + mira.abha_number[-4:]
    before = counters.total(CountMetric.RECORDS_LINKED)

    outsider = MembershipFactory(facility=FacilityFactory(), user__role=Role.FACILITY_STAFF).user
    assert api_as(outsider).get("/api/v1/linking-reviews/").json()["results"] == []
    decide = f"/api/v1/linking-reviews/{listed[0]['uuid']}/"
    assert api_as(outsider).post(decide, {"decision": "reject"}, format="json").status_code == 404
    for not_offered in (str(asha.uuid), str(mira.uuid), listed[1]["candidates"][0]["account"]):
        wrong = client.post(decide, {"decision": "link", "account": not_offered}, format="json")
        assert wrong.status_code == 400 and "account" in wrong.json()["error"]["fields"]
    outsiders_try = api_as(outsider).post(decide, {"decision": "link", "account": candidate["account"]}, format="json")
    assert outsiders_try.status_code == 404

    linked = client.post(decide, {"decision": "link", "account": candidate["account"]}, format="json")
    assert linked.status_code == 200 and linked.json()["status"] == "linked"
    assert CareContext.objects.get(reference="R-1").patient == mira
    assert HealthRecord.objects.get(care_context__reference="R-1").patient == mira
    assert counters.total(CountMetric.RECORDS_LINKED) == before + 1
    assert client.post(decide, {"decision": "reject"}, format="json").status_code == 409

    rejected = client.post(f"/api/v1/linking-reviews/{listed[1]['uuid']}/", {"decision": "reject"}, format="json")
    assert rejected.json()["status"] == "rejected"
    assert CareContext.objects.get(reference="R-2").patient is None  # kept for the patient to claim
    assert LinkingReview.objects.filter(status=LinkingReviewStatus.PENDING).count() == 0


def _review_answers(client, staff):
    client.force_login(staff)
    page = client.get(reverse("records:linking_reviews")).content.decode()
    return page, json.dumps(APIClientAs(staff).get("/api/v1/linking-reviews/").json())


def APIClientAs(user):  # noqa: N802 - reads like the class it returns
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_mobile_with_guessed_gender_and_year_never_turns_into_the_abha_holders_name(hospital, people, client):
    """Issue 15 #5: staff who know only a mobile and guess the rest learn no more than they typed and the masked
    number; the holder's name, gender, year and public id appear nowhere in the review page or API."""
    facility, staff = hospital
    asha, ravi, mira, meena = people
    rows = [visit("G-1", mobile="9833333333", name="Xyz Abc", gender="F", year_of_birth="1985")]
    run(services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows))))
    review = LinkingReview.objects.get()
    assert review.candidate_ids == [mira.pk]
    page, api = _review_answers(client, staff)
    assert "Xyz Abc" in page and "Xyz Abc" in api  # what staff entered
    for answer in (page, api):
        for secret in (
            "Mira",
            "Desai",
            "Meena",
            str(mira.uuid),
            mira.abha_number,
            abha_number_display(mira.abha_number),
        ):
            assert secret not in answer, secret
        assert "XX-XXXX-XXXX-" + mira.abha_number[-4:] in answer
    assert set(json.loads(api)["results"][0]["candidates"][0]) == {"account", "abha_number_masked"}


def test_only_the_mobile_matching_gives_no_candidate(hospital, people, client):
    facility, staff = hospital
    rows = [
        visit("N-1", mobile="9833333333", name="Xyz Abc", gender="M", year_of_birth="1970"),  # nothing but the mobile
        visit("N-2", mobile="9833333333", name="Xyz Abc", gender="F", year_of_birth="1970"),  # mobile + gender only
        visit("N-3", mobile="9833333333", name="Xyz Abc", gender="M", year_of_birth="1985"),  # mobile + year only
    ]
    job = run(services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows))))
    assert (job.needs_review, job.failed_rows) == (0, 3) and not LinkingReview.objects.exists()
    page, api = _review_answers(client, staff)
    assert "Desai" not in page and "Desai" not in api


def test_cancel_stops_between_chunks_and_keeps_what_is_linked(hospital, people, api_as, settings):
    facility, staff = hospital
    settings.LINKING_CHUNK_ROWS = 2
    rows = [visit(f"C-{n}", abha_number=people[0].abha_number) for n in range(6)]
    job = services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows)))
    processing.job_prepare(job_id=job.pk)
    assert processing._process_next_chunk(job.pk) == 1
    response = api_as(staff).post(f"/api/v1/linking-jobs/{job.uuid}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    processing.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed, job.linked) == (LinkingJobStatus.CANCELLED, 2, 2)
    assert HealthRecord.objects.filter(facility=facility).count() == 2
    assert api_as(staff).post(f"/api/v1/linking-jobs/{job.uuid}/cancel/").status_code == 409


def test_a_chunk_that_crashes_leaves_nothing_behind_and_is_retried(hospital, people, monkeypatch, settings):
    facility, staff = hospital
    settings.LINKING_CHUNK_ROWS = 3
    rows = [visit(f"K-{n}", abha_number=people[0].abha_number) for n in range(6)]
    job = services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows)))
    processing.job_prepare(job_id=job.pk)
    real_count_add = processing.count_add
    calls = {"n": 0}

    def crash_once(**kwargs):
        # Fails after the records were inserted, at the dashboard counter: the whole chunk must roll back.
        if calls["n"] == 0:
            calls["n"] += 1
            raise RuntimeError("worker lost its database mid-chunk")
        return real_count_add(**kwargs)

    monkeypatch.setattr(processing, "count_add", crash_once)
    assert processing._process_next_chunk(job.pk) == 0
    assert HealthRecord.objects.filter(facility=facility).count() == 0
    chunk = LinkingChunk.objects.get(job=job, index=0)
    assert (chunk.status, chunk.attempts) == (LinkingChunkStatus.PENDING, 1)
    processing.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.linked, job.processed) == (LinkingJobStatus.DONE, 6, 6)
    assert HealthRecord.objects.filter(facility=facility).count() == 6


def test_a_chunk_failing_every_time_is_reported_and_the_job_ends_failed(hospital, people, monkeypatch, settings):
    facility, staff = hospital
    settings.LINKING_CHUNK_ROWS = 2
    rows = [visit(f"F-{n}", abha_number=people[0].abha_number) for n in range(4)]
    job = services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows)))
    processing.job_prepare(job_id=job.pk)
    real = processing._link_staged

    def broken(job_, now):
        if LinkingChunk.objects.filter(job=job_, status="pending").order_by("index").first().index == 0:
            raise RuntimeError("bug")
        return real(job_, now)

    monkeypatch.setattr(processing, "_link_staged", broken)
    processing.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == LinkingJobStatus.FAILED
    assert (job.linked, job.failed_rows, job.processed) == (2, 2, 4)
    assert sorted(job.row_errors.values_list("row_number", "code")) == [(2, "internal"), (3, "internal")]


def test_ndjson_of_fhir_bundles_links_by_the_patient_identifier_in_each_bundle(hospital, people):
    facility, staff = hospital
    asha = people[0]
    good = bundle_for(HiType.PRESCRIPTION, key="nd-1")
    patient = next(e["resource"] for e in good["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["identifier"] = [{"system": "https://healthid.ndhm.gov.in", "value": abha_number_display(asha.abha_number)}]
    good["entry"] = [e for e in good["entry"] if e["resource"]["resourceType"] != "Encounter"]
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "finished", "identifier": [{"value": "ND-1"}]}
    encounter["class"] = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}
    good["entry"].append({"fullUrl": "Encounter/e1", "resource": encounter})
    no_patient = json.loads(json.dumps(good))
    for entry in no_patient["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["identifier"] = []
    lines = [json.dumps(good), "", "{broken", json.dumps(no_patient)]
    job = run(
        services.job_create(
            actor=staff, facility=facility, uploaded_file=upload("\n".join(lines).encode(), "bundles.ndjson")
        )
    )
    assert (job.total, job.linked, job.failed_rows) == (3, 1, 2)
    assert CareContext.objects.get(reference="ND-1").patient == asha
    codes = dict(job.row_errors.values_list("row_number", "code"))
    assert codes[2] == "not_json" and codes[3] == "bundle_no_patient"


def test_zip_with_a_csv_and_pdfs_links_the_pdfs_as_documents(hospital, people):
    facility, staff = hospital
    asha = people[0]
    rows = [
        visit("Z-1", abha_number=asha.abha_number, hi_type="DiagnosticReport", pdf_path="reports/z1.pdf"),
        visit("Z-2", abha_number=asha.abha_number, pdf_path="reports/missing.pdf"),
        visit("Z-3", abha_number=asha.abha_number, pdf_path="reports/fake.pdf"),
    ]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("export.csv", csv_bytes(rows))
        zipped.writestr("reports/z1.pdf", b"%PDF-1.4 lab report")
        zipped.writestr("reports/fake.pdf", b"MZ not a pdf")
    job = run(
        services.job_create(actor=staff, facility=facility, uploaded_file=upload(archive.getvalue(), "batch.zip"))
    )
    assert (job.linked, job.failed_rows) == (1, 2)
    record = HealthRecord.objects.get(care_context__reference="Z-1")
    attachment = record.bundle["entry"][2]["resource"]["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert dict(job.row_errors.values_list("row_number", "code")) == {3: "pdf_missing", 4: "pdf_not_pdf"}


def test_quoted_newlines_and_blank_lines_keep_row_numbers_right_across_chunks(hospital, people, settings):
    facility, staff = hospital
    settings.LINKING_CHUNK_ROWS = 2
    asha = people[0]
    rows = [
        visit("Q-1", abha_number=asha.abha_number, care_context_display="OPD visit,\nfollow-up"),
        visit("Q-2", abha_number=asha.abha_number),
        visit("Q-3", abha_number="99123456789017"),
        visit("Q-4", abha_number=asha.abha_number, care_context_display='He said "ok"\nagain'),
        visit("", abha_number=asha.abha_number),
    ]
    content = csv_bytes(rows).replace(b"\n", b"\n\n", 1) + b"\n\n"  # blank lines are not rows
    job = run(services.job_create(actor=staff, facility=facility, uploaded_file=upload(content)))
    assert job.total == 5 and job.chunks.count() == 3
    assert dict(job.row_errors.values_list("row_number", "code")) == {4: "abha_unknown", 6: "reference_missing"}
    assert CareContext.objects.get(reference="Q-1").display == "OPD visit, follow-up"


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_uploads_at_once_link_each_record_once(settings):
    facility = FacilityFactory()
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    accounts = [AbhaAccountFactory(mobile=f"98{n:08d}") for n in range(40)]
    settings.LINKING_CHUNK_ROWS = 10
    first = [visit(f"O-{n}", abha_number=accounts[n % 40].abha_number) for n in range(0, 120)]
    second = [visit(f"O-{n}", abha_number=accounts[n % 40].abha_number) for n in range(60, 180)]
    jobs = [
        services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows)))
        for rows in (first, second)
    ]
    for job in jobs:
        processing.job_prepare(job_id=job.pk)
    errors = []

    def work(job_id):
        try:
            processing.job_work(job_id=job_id)
        except Exception as error:  # noqa: BLE001 - any error in a thread is reported by the assert below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(job.pk,)) for job in jobs for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    done = [LinkingJob.objects.get(pk=job.pk) for job in jobs]
    assert all(job.status == LinkingJobStatus.DONE for job in done)
    assert sum(job.linked for job in done) == 180
    assert sum(job.duplicates for job in done) == 60
    assert HealthRecord.objects.filter(facility=facility).count() == 180
    assert counters.total(CountMetric.RECORDS_LINKED) == 180


def test_inactive_abha_is_refused(hospital, people):
    facility, staff = hospital
    asha = people[0]
    asha.status = AccountStatus.DEACTIVATED
    asha.save()
    job = run(
        services.job_create(
            actor=staff,
            facility=facility,
            uploaded_file=upload(csv_bytes([visit("I-1", abha_number=asha.abha_number)])),
        )
    )
    assert job.row_errors.get().code == "abha_inactive"


def test_resume_finds_running_jobs_with_free_chunks_and_stale_queued_jobs(hospital, people, settings):
    facility, staff = hospital
    settings.LINKING_RESUME_AFTER_SECONDS = 1
    job = services.job_create(
        actor=staff,
        facility=facility,
        uploaded_file=upload(csv_bytes([visit("S-1", abha_number=people[0].abha_number)])),
    )
    LinkingJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert processing.jobs_to_resume() == [(job.pk, "prepare")]
    processing.job_prepare(job_id=job.pk)
    assert processing.jobs_to_resume() == [(job.pk, "work")]
    processing.job_work(job_id=job.pk)
    assert processing.jobs_to_resume() == []


def test_the_job_page_shows_progress_and_the_review_page_decides(hospital, people, client):
    facility, staff = hospital
    client.force_login(staff)
    page = client.get(reverse("records:linking"))
    assert page.status_code == 200 and "care_context_reference" in page.content.decode()
    response = client.post(
        reverse("records:linking"), {"facility": facility.pk, "file": upload(csv_bytes(mixed_rows(people)))}
    )
    job = LinkingJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("records:linking_job", args=[job.uuid])
    queued = client.get(reverse("records:linking_progress", args=[job.uuid])).content.decode()
    assert 'hx-trigger="every 1s"' in queued
    run(job)
    done = client.get(reverse("records:linking_job", args=[job.uuid])).content.decode()
    assert "errors.csv" in done
    # Done here; the card keeps updating while ABDM's confirmations are awaited (its second progress line).
    assert 'id="linking-abdm"' in done and "Linked on ABDM 0 of" in done and "hx-trigger" in done
    review = LinkingReview.objects.get()
    reviews_page = client.get(reverse("records:linking_reviews")).content.decode()
    assert "M. Desai" in reviews_page and "Mira" not in reviews_page  # what staff typed, not the ABHA's name
    [candidate] = selectors.with_candidates([review])[0].candidates
    assert str(candidate.key) in reviews_page
    response = client.post(
        reverse("records:linking_reviews"), {"review": str(review.uuid), "account": str(people[2].uuid)}
    )
    assert response.status_code == 302 and LinkingReview.objects.get().status == LinkingReviewStatus.PENDING
    response = client.post(
        reverse("records:linking_reviews"), {"review": str(review.uuid), "account": str(candidate.key)}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == LinkingReviewStatus.LINKED
    bad = client.post(reverse("records:linking_reviews"), {"review": "not-a-uuid", "account": "reject"})
    assert bad.status_code == 404
    bad_file = client.post(reverse("records:linking"), {"facility": facility.pk, "file": upload(b"a,b\n1,2\n")})
    assert bad_file.status_code == 200 and "Expected columns" in bad_file.content.decode()
    outsider = MembershipFactory(facility=FacilityFactory(), user__role=Role.FACILITY_STAFF).user
    client.force_login(outsider)
    assert client.get(reverse("records:linking_job", args=[job.uuid])).status_code == 404
    client.force_login(people[0].user)
    assert client.get(reverse("records:linking")).status_code == 403


@pytest.mark.parametrize(
    ("abha", "name"), [("91-1234-5678-9012", 'Asha "Ben" Patel'), ("", "આશા પટેલ"), ("91-1234-5678-9012", ""), ("", "")]
)
def test_index_documents_are_exactly_the_canonical_bundle_and_its_summary(abha, name):
    from records.fhir import bundle_sha256, index_bundle, summarize
    from records.linking.documents import escaped, index_document

    values = {
        "bundle_id": "abc123",
        "hi_type": "DiagnosticReport",
        "title": "Lab report, 03 Oct 2025 {CBC}\\",
        "date": "2025-10-03",
        "patient_abha": abha,
        "patient_name": name,
    }
    text, summary, sha = index_document(**values, custodian=escaped("Sir T. Hospital (IN2410000001)"))
    bundle = index_bundle(**values, custodian="Sir T. Hospital (IN2410000001)")
    assert json.loads(text) == bundle
    assert sha == bundle_sha256(bundle)
    assert json.loads(summary) == summarize(bundle)


def test_a_state_official_picks_the_facility_by_id_not_from_a_list_of_thousands(hospital, people, client, settings):
    from records.linking import views as linking_views

    facility, _staff = hospital
    FacilityFactory.create_batch(linking_views.SELECT_LIMIT)
    client.force_login(UserFactory(role=Role.STATE_OFFICIAL))
    page = client.get(reverse("records:linking")).content.decode()
    assert '<select name="facility"' not in page and 'name="facility"' in page
    content = csv_bytes(mixed_rows(people)[:1])
    wrong = client.post(reverse("records:linking"), {"facility": "IN0000000000", "file": upload(content)})
    assert wrong.status_code == 200 and "No verified facility has this ID." in wrong.content.decode()
    right = client.post(reverse("records:linking"), {"facility": facility.facility_id.lower(), "file": upload(content)})
    assert right.status_code == 302 and LinkingJob.objects.get().facility == facility


def test_a_citizen_with_many_linked_records_reads_them_a_page_at_a_time(hospital, people, client):
    from core.models import AuditEvent
    from records.selectors import READ_ACTION

    facility, staff = hospital
    asha = people[0]
    rows = [visit(f"P-{n:02d}", abha_number=asha.abha_number) for n in range(45)]
    run(services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows))))
    client.force_login(asha.user)
    pages = [client.get(reverse("records:my_records"), {"page": n}).content.decode() for n in (1, 2, 3)]
    assert "Older records" in pages[0] and "Newer records" not in pages[0]
    assert "Older records" in pages[1] and "Newer records" in pages[1]
    assert "Older records" not in pages[2] and "Newer records" in pages[2]
    assert client.get(reverse("records:my_records"), {"page": "x"}).status_code == 200
    # Only the records shown are read, and each read is audited with exactly those.
    reads = AuditEvent.objects.filter(action=READ_ACTION, actor=asha.user).order_by("at", "id")
    seen = [event.details["records"] for event in reads[:3]]
    assert [len(page) for page in seen] == [20, 20, 5]
    assert len({uuid for page in seen for uuid in page}) == 45


def test_the_upload_page_refuses_a_file_over_the_limit_with_a_message(hospital, client, settings):
    facility, staff = hospital
    settings.LINKING_MAX_UPLOAD_BYTES = 2048
    client.force_login(staff)
    page = client.post(reverse("records:linking"), {"facility": facility.pk, "file": upload(b"x" * (2 * 1024 * 1024))})
    assert page.status_code == 200 and "larger than" in page.content.decode()
    assert not LinkingJob.objects.exists()
