"""Uploaded files: checked for type (by their bytes, not only their name) and size, stored under a random
name, and never served from MEDIA_URL or any path the uploader controls."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from facilities.models import BulkUpload
from facilities.services import bulk

from .test_bulk import HEADER, good_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(people["officer"])
    return client


def _refused(response, message):
    return response.status_code == 200 and message in response.content.decode() and not BulkUpload.objects.exists()


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("setup.exe", b"MZ\x90\x00", "Upload a CSV or XLSX file."),
        ("list.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a CSV text file."),
        ("list.csv", "facility_id,name\n".encode("utf-16"), "This is not a CSV text file."),
        ("list.xlsx", b"name,district\nPHC,443\n", "This is not an Excel (XLSX) workbook."),
    ],
)
def test_a_file_whose_bytes_are_not_what_its_name_says_is_refused(officer_client, name, content, message):
    response = officer_client.post("/facilities/bulk/", {"file": SimpleUploadedFile(name, content)})
    assert _refused(response, message)


def test_a_workbook_that_unpacks_to_more_than_the_limit_is_refused(officer_client, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_UNPACKED_BYTES", 10_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000)  # compresses to a few hundred bytes
    assert len(buffer.getvalue()) < 10_000
    response = officer_client.post("/facilities/bulk/", {"file": SimpleUploadedFile("big.xlsx", buffer.getvalue())})
    assert _refused(response, "This workbook is too large once unpacked.")


def test_a_file_over_the_size_limit_is_refused(officer_client, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_BYTES", 100)
    content = ("\n".join([HEADER, good_line(1), good_line(2)]) + "\n").encode()
    assert len(content) > 100
    response = officer_client.post("/facilities/bulk/", {"file": SimpleUploadedFile("list.csv", content)})
    assert _refused(response, "The file is larger than 20 MB.")


def test_the_uploaders_file_name_never_becomes_a_path_and_media_is_not_served(officer_client, settings):
    content = ("\n".join([HEADER, good_line(1)]) + "\n").encode()
    evil = SimpleUploadedFile("../../../../static/css/portal.csv", content, content_type="text/csv")
    response = officer_client.post("/facilities/bulk/", {"file": evil})
    assert response.status_code == 302
    upload = BulkUpload.objects.get()
    stored = Path(upload.file.path).resolve()
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert "portal" not in upload.file.name and ".." not in upload.file.name
    assert upload.file.name.startswith("bulk/facilities/")
    # Nothing maps MEDIA_URL (or the stored name anywhere else) to the files: downloads go through views
    # that check access, like the error report.
    for path in (settings.MEDIA_URL + upload.file.name, "/" + upload.file.name, "/static/" + upload.file.name):
        assert officer_client.get(path).status_code == 404, path
