"""A document added to a patient's records must be what it claims: PDF, JPEG or PNG by its bytes, up to 5 MB."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from records.enums import HiType
from records.models import HealthRecord

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _post(client, world, document):
    data = {
        "facility": world.a.pk,
        "patient": world.patient.abha_number,
        "reference": "DOC-1",
        "display": "Scan",
        "date": "2025-02-03",
        "hi_type": HiType.HEALTH_DOCUMENT_RECORD,
        "document": document,
    }
    return client.post(reverse("records:record_add"), data)


@pytest.mark.parametrize(
    "name, content, content_type",
    [
        ("scan.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),  # HTML claiming to be a PDF
        ("photo.png", b"%PDF-1.4\n", "image/png"),  # a PDF claiming to be a PNG
        ("page.html", b"<html></html>", "text/html"),
    ],
)
def test_a_document_whose_bytes_do_not_match_an_allowed_type_is_refused(world, client, name, content, content_type):
    client.force_login(world.staff_a)
    before = HealthRecord.objects.count()
    response = _post(client, world, SimpleUploadedFile(name, content, content_type=content_type))
    assert response.status_code == 200
    assert "Upload a PDF, JPEG or PNG file." in response.content.decode()
    assert HealthRecord.objects.count() == before


def test_a_real_png_is_accepted_and_a_document_over_5_mb_is_not(world, client, monkeypatch):
    client.force_login(world.staff_a)
    assert _post(client, world, SimpleUploadedFile("photo.png", PNG, content_type="image/png")).status_code == 302
    monkeypatch.setattr("records.forms.MAX_UPLOAD_BYTES", 16)
    response = _post(client, world, SimpleUploadedFile("photo.png", PNG, content_type="image/png"))
    assert response.status_code == 200 and "The file is larger than 5 MB." in response.content.decode()
