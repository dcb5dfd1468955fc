"""Bulk onboarding: exact per-row error reports, idempotent re-uploads, roles, and 20,000 rows through a real worker."""

import csv
import io
import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from facilities.enums import BulkUploadStatus, FacilityStatus
from facilities.models import BulkUpload, Facility
from facilities.services.bulk import COLUMNS, bulk_upload_process
from facilities.tests.factories import FacilityFactory

HEADER = ",".join(COLUMNS)


def csv_file(lines, name="facilities.csv"):
    return SimpleUploadedFile(name, ("\n".join([HEADER, *lines]) + "\n").encode(), content_type="text/csv")


def good_line(number, district=443, pincode="364001", facility_id=""):
    return (
        f"{facility_id},PHC Number {number},phc,G,{district},Village {number},{pincode},98250{number:05d},"
        "6,modern;ayurveda,opd,rural,21.76,72.15"
    )


def on_hfr_lines(sandbox, *numbers, district=443, timeout=30, **kwargs) -> list[str]:
    """good_line()s of facilities put on the sandbox's HFR first (one call), each with the HFR ID it got."""
    from core.models import District

    place = District.objects.get(lgd_code=district)
    entries = [
        {
            "facilityName": f"PHC Number {number}",
            "ownershipCode": "G",
            "stateLGDCode": "24",
            "stateName": "Gujarat",
            "districtLGDCode": str(district),
            "districtName": place.name,
        }
        for number in numbers
    ]
    response = sandbox.post("hfr/facilities", {"facilities": entries}, timeout=timeout)
    assert response.status_code == 201, response.text
    ids = [entry["facilityId"] for entry in response.json()["facilities"]]
    return [good_line(n, district=district, facility_id=i, **kwargs) for n, i in zip(numbers, ids, strict=True)]


BAD_LINES = [
    ",,phc,G,443,,364001,,,,,,,",  # line 5: no name
    ",9 Lives Clinic,spa,X,443,,36400,12345,many,magic,both,city,91,200",  # line 6: everything wrong
    ",Ahmedabad PHC,phc,G,438,,380001,,,,,,,",  # line 7: not this officer's district
    "IN2499999999,Ghost PHC,phc,G,443,,364001,,,,,,,",  # line 8: an HFR ID HFR does not know
    ",PHC Number 1,phc,G,443,Again,364001,,,,,,,",  # line 9: new here, and no HFR ID
]
EXPECTED_REPORT = [
    ["line", "column", "error"],
    ["5", "name", "This field is required."],
    ["6", "beds", "Beds must be a whole number."],
    ["6", "contact_mobile", "Enter a 10-digit mobile number starting with 6, 7, 8 or 9."],
    ["6", "facility_type", "Unknown facility type."],
    ["6", "latitude", "This latitude is outside India (6.5 to 37.5)."],
    ["6", "longitude", "This longitude is outside India (68 to 97.5)."],
    ["6", "name", "The name must start with a letter."],
    ["6", "ownership", "Use G, P or PP."],
    ["6", "pincode", "Enter a 6-digit pincode that does not start with 0."],
    ["6", "region", "Use rural or urban."],
    ["6", "service_type", "Use opd, ipd or opd_ipd."],
    ["6", "systems_of_medicine", "Choose systems of medicine from the list."],
    ["7", "district_lgd", "This district is not one of yours."],
    ["8", "facility_id", "HFR has no facility with this ID. Check it, or register the facility on HFR first."],
    ["9", "facility_id", "A new facility needs its HFR ID."],
]


def report_rows(upload):
    with upload.error_report.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode())))


@pytest.mark.django_db
def test_upload_creates_verified_facilities_and_reports_bad_rows_exactly(
    client, people, django_capture_on_commit_callbacks, abdm_sandbox
):
    from abdm.bridge_services import HIP_SERVICE_KIND
    from abdm.models import OutboxMessage

    client.force_login(people["officer"])
    lines = [*on_hfr_lines(abdm_sandbox, 1, 2, 3), *BAD_LINES]
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/facilities/bulk/", {"file": csv_file(lines)})
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task is queued after the commit
    upload = BulkUpload.objects.get()
    bulk_upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    assert (upload.status, upload.total_rows, upload.created_count, upload.updated_count, upload.error_count) == (
        BulkUploadStatus.DONE,
        8,
        3,
        0,
        5,
    )
    assert report_rows(upload) == EXPECTED_REPORT
    created = Facility.objects.get(name="PHC Number 2")
    assert created.status == FacilityStatus.VERIFIED and created.verified_by == people["officer"]
    assert created.facility_id == lines[1].split(",")[0] and created.systems_of_medicine == ["modern", "ayurveda"]
    # Each new (verified) facility's registration as an HIP service of the bridge waits in the outbox.
    queued = OutboxMessage.objects.filter(kind=HIP_SERVICE_KIND).values_list("body__facilityId", flat=True)
    assert sorted(queued) == sorted(line.split(",")[0] for line in lines[:3])

    download = client.get(f"/facilities/bulk/{upload.uuid}/errors.csv")
    assert download.status_code == 200 and b"A new facility needs its HFR ID." in b"".join(download.streaming_content)
    status = client.get(f"/facilities/bulk/{upload.uuid}/status/").json()
    assert status["percent"] == 100 and status["rows_with_errors"] == 5

    # A claimed job is never processed twice.
    assert bulk_upload_process(upload_id=upload.pk) is None


@pytest.mark.django_db
def test_the_same_file_again_updates_instead_of_duplicating(people, abdm_sandbox):
    existing = FacilityFactory(name="Old Name", facility_type="phc", pincode="364002")
    lines = [*on_hfr_lines(abdm_sandbox, 1), f"{existing.facility_id},New Name,chc,G,443,Main Road,364002,,30,,,,,"]
    for _ in range(2):
        upload = BulkUpload.objects.create(uploaded_by=people["state"], original_name="x.csv")
        upload.file.save("x.csv", csv_file(lines))
        bulk_upload_process(upload_id=upload.pk)
    upload.refresh_from_db()  # the second time: the facility the first one created is updated
    assert (upload.created_count, upload.updated_count, upload.error_count) == (0, 2, 0)
    assert Facility.objects.filter(name="PHC Number 1").count() == 1
    existing.refresh_from_db()
    assert (existing.name, existing.facility_type, existing.beds) == ("New Name", "chc", 30)


@pytest.mark.django_db
def test_missing_columns_fail_the_job_with_a_message(people):
    upload = BulkUpload.objects.create(uploaded_by=people["state"], original_name="x.csv")
    upload.file.save("x.csv", SimpleUploadedFile("x.csv", b"name,foo\nA,b\n"))
    bulk_upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    assert upload.status == BulkUploadStatus.FAILED
    assert "facility_type" in upload.message


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, expected", [("officer", 302), ("state", 302), ("admin", 403), ("staff", 403), ("citizen", 403)]
)
def test_only_officials_upload(client, people, who, expected):
    client.force_login(people[who])
    response = client.post("/facilities/bulk/", {"file": csv_file([good_line(1)])})
    assert response.status_code == expected


@pytest.mark.django_db
def test_only_the_uploader_and_state_officials_see_an_upload(client, people):
    upload = BulkUpload.objects.create(uploaded_by=people["officer"], original_name="x.csv")
    for who, expected in [("officer", 200), ("state", 200), ("wrong_officer", 404), ("admin", 404)]:
        client.force_login(people[who])
        assert client.get(f"/facilities/bulk/{upload.uuid}/status/").status_code == expected, who


@pytest.mark.django_db
def test_other_files_are_refused_with_a_message(client, people):
    client.force_login(people["officer"])
    response = client.post("/facilities/bulk/", {"file": SimpleUploadedFile("list.pdf", b"%PDF")})
    assert response.status_code == 200 and "Upload a CSV or XLSX file." in response.content.decode()


@pytest.mark.django_db
def test_an_xlsx_file_is_read_like_a_csv(client, people, abdm_sandbox):
    from openpyxl import Workbook

    seeded = abdm_sandbox.post(
        "hfr/facilities",
        {"facilityName": "Sihor PHC", "ownershipCode": "G", "stateLGDCode": "24", "stateName": "Gujarat",
         "districtLGDCode": "443", "districtName": "Bhavnagar"},
    )  # fmt: skip
    hfr_id = seeded.json()["facilities"][0]["facilityId"]

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    # Spreadsheets hold pincodes, mobiles and LGD codes as numbers.
    sheet.append(
        [hfr_id, "Sihor PHC", "phc", "G", 443, "Sihor", 364240, 9825011111, 6, "modern", "opd", "rural", 21.71, 71.96]
    )
    sheet.append([None, "Bad PHC", "phc", "G", 443, None, 12, None, None, None, None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client.force_login(people["officer"])
    client.post("/facilities/bulk/", {"file": SimpleUploadedFile("list.xlsx", buffer.getvalue())})
    upload = BulkUpload.objects.get()
    bulk_upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    assert (upload.status, upload.created_count, upload.error_count) == (BulkUploadStatus.DONE, 1, 1)
    assert report_rows(upload)[1] == ["3", "pincode", "Enter a 6-digit pincode that does not start with 0."]
    created = Facility.objects.get(name="Sihor PHC")
    assert (created.pincode, created.contact_mobile, created.district_id) == ("364240", "9825011111", 443)


@pytest.mark.django_db
def test_an_unreadable_file_fails_the_job_with_a_message(people):
    upload = BulkUpload.objects.create(uploaded_by=people["state"], original_name="x.xlsx")
    upload.file.save("x.xlsx", SimpleUploadedFile("x.xlsx", b"not a zip"))
    bulk_upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    assert upload.status == BulkUploadStatus.FAILED and "could not be read" in upload.message


# The state's list, scaled: BULK_TEST_ROWS=20000 is the full-size run whose time bench/README.md records (the issue's
# "20,000 rows in under a minute"); the suite's default checks the same path at 2,000 rows.
BULK_TEST_ROWS = int(os.environ.get("BULK_TEST_ROWS") or 2_000)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_states_list_through_a_real_worker_in_under_a_minute(celery_worker_process, client, abdm_sandbox):
    """The state's list uploaded again (20,000 rows at full size): most facilities as the portal has them (matched by
    HFR ID, not written), a tenth of them changed (written), new ones of one district (checked against HFR by reading
    the district page by page, not one search each; at least 250, over the paging threshold), created verified and
    queued as HIP services, and 3 bad rows."""
    from decimal import Decimal

    from config.celery import app
    from core.models import District
    from core.tests.factories import DistrictOfficerFactory

    rows = BULK_TEST_ROWS
    new = max(250, rows // 20)
    kept = rows - new
    moved = range(kept - kept // 19, kept)  # 1,000 of 19,000 at full size
    officer = DistrictOfficerFactory(districts=[District.objects.get(lgd_code=443)])
    client.force_login(officer)
    hfr_lines = on_hfr_lines(abdm_sandbox, *range(kept, rows), timeout=300)  # on the sandbox's HFR (not timed)
    minted = {line.split(",")[0] for line in hfr_lines}  # random IDs: keep the known ones clear of them
    known = [f"IN24{70_000_000 + number:08d}" for number in range(kept + len(minted))]
    known = [facility_id for facility_id in known if facility_id not in minted][:kept]
    as_in_the_file = {
        "facility_type": "phc", "ownership": "G", "beds": 6, "systems_of_medicine": ["modern", "ayurveda"],
        "service_type": "opd", "region": "rural", "latitude": Decimal("21.76"), "longitude": Decimal("72.15"),
    }  # fmt: skip
    Facility.objects.bulk_create(
        [
            FacilityFactory.build(
                facility_id=known[n],
                name=f"PHC Number {n}",
                address=f"Village {n}",
                pincode=f"{364001 + n % 500}",
                contact_mobile=f"98250{n:05d}",
                **as_in_the_file,
            )  # fmt: skip
            for n in range(kept)
        ],
        batch_size=2000,
    )
    lines = [good_line(n, facility_id=known[n]) for n in range(kept)]
    lines += hfr_lines
    lines = [line.replace(",364001,", f",{364001 + n % 500},") for n, line in enumerate(lines)]
    for n in moved:  # these have moved: a new address
        lines[n] = lines[n].replace(f",Village {n},", f",New Road {n},")
    bad_at = [100, kept // 4, rows - 1]  # 0-based row indexes -> CSV lines 102, 5002, 20001 at full size
    for index in bad_at:
        lines[index] = f"{lines[index].split(',')[0]},Bad Row {index},phc,G,443,,99,,,,,,,"
    started = time.monotonic()
    response = client.post("/facilities/bulk/", {"file": csv_file(lines)})
    assert response.status_code == 302
    upload = BulkUpload.objects.get()
    while time.monotonic() - started < 90:
        upload.refresh_from_db()
        if upload.status in (BulkUploadStatus.DONE, BulkUploadStatus.FAILED):
            break
        time.sleep(0.25)
    elapsed = time.monotonic() - started
    app.control.purge()  # the HIP registrations queued for the worker: not for the tests after this one
    print(f"\n{rows:,}-row bulk upload through the worker: {elapsed:.1f} s")
    assert upload.status == BulkUploadStatus.DONE, upload.message
    assert elapsed < 60
    assert (upload.updated_count, upload.created_count, upload.error_count) == (kept - 2, new - 1, 3), report_rows(
        upload
    )[:5]
    assert Facility.objects.filter(address__startswith="New Road").count() == len(moved)
    assert report_rows(upload) == [
        ["line", "column", "error"],
        *[[str(index + 2), "pincode", "Enter a 6-digit pincode that does not start with 0."] for index in bad_at],
    ]
    assert Facility.objects.filter(status=FacilityStatus.VERIFIED, beds=6).count() == rows - 1  # the bad rows' too


@pytest.mark.django_db
def test_bulk_created_and_moved_facilities_keep_the_dashboard_counters_exact(people, abdm_sandbox):
    from core import counters

    counters.rebuild(fix=True)  # the fixture's factories bypass the services that count
    verified_elsewhere = FacilityFactory(name="Moving Hospital", facility_type="phc", pincode="364002")
    counters.rebuild(fix=True)
    lines = [
        *on_hfr_lines(abdm_sandbox, 1),
        *on_hfr_lines(abdm_sandbox, 2, district=438, pincode="380001"),
        f"{verified_elsewhere.facility_id},Moving Hospital,phc,G,438,Main Road,380002,,,,,,,",  # moves district
    ]
    upload = BulkUpload.objects.create(uploaded_by=people["state"], original_name="x.csv")
    upload.file.save("x.csv", csv_file(lines))
    bulk_upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    assert (upload.created_count, upload.updated_count, upload.error_count) == (2, 1, 0)
    assert counters.rebuild() == []  # every counter (registered, verified, by status) equals the table
    assert (
        counters.totals_by_district("facilities_verified", [438])[438]
        == Facility.objects.filter(district_id=438, status=FacilityStatus.VERIFIED).count()
    )
