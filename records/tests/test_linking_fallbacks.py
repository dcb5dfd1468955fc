"""Issue 19 #12: the upload form preselects the user's only facility; the job page without JavaScript refreshes
itself while the job runs (meta refresh and a link), and stops once it is over."""

import pytest
from django.core.files.base import ContentFile

from core.enums import Role
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records.enums import LinkingJobStatus
from records.models import LinkingJob

from .browser import fits_phone, signed_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def _job(facility, user, **fields):
    job = LinkingJob(facility=facility, uploaded_by=user, original_name="hmis-export.csv", file_format="csv", **fields)
    job.file.save("hmis-export.csv", ContentFile(b"abha_number\n"), save=False)
    job.save()
    return job


@pytest.mark.django_db
def test_upload_form_preselects_the_only_facility(client):
    facility = FacilityFactory(name="Sir T Hospital")
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    client.force_login(staff)
    page = client.get("/records/linking/").content.decode()
    assert f'<option value="{facility.pk}" selected>Sir T Hospital</option>' in page
    assert "---------" not in page


@pytest.mark.django_db
def test_job_page_refreshes_itself_only_while_the_job_runs(client):
    facility = FacilityFactory()
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    job = _job(facility, staff)
    client.force_login(staff)
    queued = client.get(f"/records/linking/{job.uuid}/").content.decode()
    assert '<noscript><meta http-equiv="refresh"' in queued and 'id="linking-refresh-link"' in queued
    LinkingJob.objects.filter(pk=job.pk).update(status=LinkingJobStatus.DONE)
    done = client.get(f"/records/linking/{job.uuid}/").content.decode()
    assert 'http-equiv="refresh"' not in done and "linking-refresh-link" not in done


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "hi", "gu"])
def test_without_javascript_the_job_page_follows_the_job(live_server, browser, contexts, screenshot, language):
    facility = FacilityFactory(name="Sir T Hospital")
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    job = _job(facility, staff)
    for viewport, name in [(PHONE, "phone"), (DESKTOP, "desktop")]:
        page = signed_in(contexts, browser, live_server, staff, viewport, language)
        page.goto(live_server.url + "/records/linking/")
        assert page.locator("#id_facility").input_value() == str(facility.pk)
        assert fits_phone(page)
        screenshot(page, f"linking-upload-{language}-{name}")
        page.goto(f"{live_server.url}/records/linking/{job.uuid}/")
        assert page.locator("#linking-refresh-link").is_visible()
        screenshot(page, f"linking-job-queued-{language}-{name}")
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    contexts.append(context)
    context.add_cookies(page.context.cookies())
    page = context.new_page()
    page.goto(f"{live_server.url}/records/linking/{job.uuid}/")
    assert page.locator("#linking-progress").get_attribute("data-status") == "queued"
    LinkingJob.objects.filter(pk=job.pk).update(status=LinkingJobStatus.DONE, total=10, processed=10, linked=10)
    with page.expect_navigation(timeout=15_000):
        pass  # the meta refresh reloads the page by itself
    assert page.locator("#linking-progress").get_attribute("data-status") == "done"
    assert page.locator("#linking-refresh-link").count() == 0
    screenshot(page, f"linking-job-done-nojs-{language}-phone")
