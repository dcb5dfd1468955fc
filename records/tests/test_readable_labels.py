"""Technical labels never reach people: attachments by what they are, consent purposes by name."""

import pytest
from django.urls import reverse

from records import fhir

from .factories import request_consent


def test_an_attached_pdf_reads_as_a_pdf_document_not_a_mime_type():
    described = fhir._describe({"resourceType": "Binary", "contentType": "application/pdf"})
    assert described["text"] == "Attachment" and described["detail"] == "PDF document"
    scan = fhir._describe({"resourceType": "Media", "content": {"contentType": "image/jpeg"}})
    assert scan["detail"] == "Picture"


@pytest.mark.django_db
def test_the_doctors_list_names_the_purpose_not_its_code(world, client):
    request_consent(doctor=world.doctor, patient=world.patient)
    client.force_login(world.doctor)
    page = client.get(reverse("records:doctor_requests")).content.decode()
    assert "CAREMGT" not in page and "your treatment" in page


@pytest.mark.django_db
def test_favicon_is_served_from_static(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.ico")
    assert 'rel="icon"' in client.get("/").content.decode()


def test_dates_are_typed_day_month_year_not_in_the_browsers_order():
    import datetime as dt

    from records.forms import ConsentRequestForm

    field = ConsentRequestForm.base_fields["date_from"]
    rendered = field.widget.render("date_from", dt.date(2025, 2, 5))
    assert 'type="text"' in rendered and "DD-MM-YYYY" in rendered and 'value="05-02-2025"' in rendered
    assert field.clean("05-02-2025") == dt.date(2025, 2, 5) == field.clean("05/02/2025")
