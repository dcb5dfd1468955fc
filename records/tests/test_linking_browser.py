"""Issue 6's "done when" in a real browser: a facility user uploads a 20,000-row file with bad rows, watches the
progress bar move, downloads an error report that names each bad row, resolves the needs-review rows, and the
citizen sees the records. A real Celery worker links the file."""

import csv
import io
import time

import pytest

from abha.tests.factories import AbhaAccountFactory
from conftest import start_celery_worker, stop_celery_worker
from core.enums import Role
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records.enums import LinkingReviewStatus
from records.linking.synthetic import BAD_COLUMNS, write_linking_file
from records.models import HealthRecord, LinkingJob, LinkingReview

from .browser import (
    fits_phone,
    signed_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def small_chunk_worker(transactional_db, tmp_path):
    """A real worker cutting files into 500-row chunks, so that progress shows in steps."""
    process = start_celery_worker(tmp_path / "worker.log", extra_env={"LINKING_CHUNK_ROWS": "500"})
    yield process
    stop_celery_worker(process)


def test_upload_watch_progress_download_errors_review_and_the_citizen_sees_records(
    live_server, browser, contexts, small_chunk_worker, tmp_path, screenshot
):
    facility = FacilityFactory(name="Sir Takhtsinhji General Hospital")
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    accounts = [AbhaAccountFactory(mobile=f"96{n:08d}", last_name=f"Parmar{n}") for n in range(150)]
    path = tmp_path / "hmis-export.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        facts = write_linking_file(out, rows=20000, bad_fraction=0.02, review_fraction=0.0005, seed=3)
    assert facts.needs_review == 10 and len(facts.bad_rows) == 400

    page = signed_in(contexts, browser, live_server, staff, DESKTOP)
    page.goto(live_server.url + "/records/linking/")
    screenshot(page, "linking-home-en-desktop")
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="Upload and link").click()
    page.wait_for_url("**/records/linking/*/")

    # The bar moves without a reload: htmx swaps the progress card in every second.
    seen, started, shot = [], time.monotonic(), False
    while time.monotonic() - started < 120:
        status = page.locator("#linking-progress").get_attribute("data-status")
        seen.append(int(page.locator("#linking-bar").get_attribute("value")))
        if status == "running" and 0 < seen[-1] < 100 and not shot:
            screenshot(page, "linking-running-en-desktop")
            shot = True
        if status == "done":
            break
        time.sleep(0.1)
    assert status == "done", seen[-5:]
    assert any(0 < value < 100 for value in seen), "the progress bar never showed a value between 0 and 100"
    assert seen == sorted(seen)
    job = LinkingJob.objects.get()
    assert page.locator("#linking-linked").inner_text() == str(job.linked) == str(facts.as_dict()["linked"])
    assert page.locator("#linking-failed").inner_text() == "400"
    assert page.locator("#linking-review").inner_text() == "10"
    screenshot(page, "linking-done-en-desktop")

    with page.expect_download() as download:
        page.locator("#linking-errors-link").click()
    report = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(report)))
    assert rows[0] == ["row", "column", "reason"]
    named = {int(number): column for number, column, _reason in rows[1:]}
    assert named == {number: BAD_COLUMNS[kind] for number, kind in facts.bad_rows.items()}
    assert all(reason for _n, _c, reason in rows[1:])

    # Resolve the uncertain matches on a phone, in Gujarati.
    phone = signed_in(contexts, browser, live_server, staff, PHONE, language="gu")
    phone.goto(live_server.url + "/records/linking/review/")
    assert fits_phone(phone)
    screenshot(phone, "linking-review-gu-phone")
    for _ in range(10):
        card = phone.locator("[data-review]").first
        card.locator("input[type=radio]").first.check()
        card.locator("button[type=submit]").click()
        phone.wait_for_load_state()
    assert not LinkingReview.objects.filter(status=LinkingReviewStatus.PENDING).exists()
    assert LinkingReview.objects.filter(status=LinkingReviewStatus.LINKED).count() == 10

    # A citizen whose rows were linked sees them in their account.
    citizen = accounts[0]
    expected = HealthRecord.objects.filter(patient=citizen, facility=facility).count()
    assert expected > 0
    mine = signed_in(contexts, browser, live_server, citizen.user, PHONE, language="hi")
    mine.goto(live_server.url + "/records/me/")
    assert mine.get_by_text("Sir Takhtsinhji General Hospital").count() >= 1
    assert fits_phone(mine)
    screenshot(mine, "linking-citizen-records-hi-phone")

    job_page = signed_in(contexts, browser, live_server, staff, PHONE, language="hi")
    job_page.goto(live_server.url + f"/records/linking/{job.uuid}/")
    assert fits_phone(job_page)
    screenshot(job_page, "linking-done-hi-phone")
    job_page.goto(live_server.url + "/records/linking/")
    screenshot(job_page, "linking-home-hi-phone")
