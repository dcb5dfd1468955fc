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


def test_a_stored_summary_reads_in_the_readers_language_whatever_the_language_of_filing():
    from django.utils import translation

    pdf = fhir._describe(
        {"resourceType": "DocumentReference", "content": [{"attachment": {"contentType": "application/pdf"}}]}
    )
    legacy = {"kind": "Binary", "text": "Attachment", "detail": "Lab sheet · PDF document"}  # stored in English
    filed_in_hindi = {"kind": "Media", "text": "छवि", "detail": "चित्र"}
    dated = {"kind": "Immunization", "text": "COVID-19 vaccine", "detail": "2021-02-21"}
    title_twice = {**pdf, "text": "Laboratory report", "file_title": "Laboratory report"}
    summary = {"sections": [{"title": "Docs", "items": [pdf, legacy, filed_in_hindi, dated, title_twice]}]}
    with translation.override("gu"):
        items = fhir.with_labels(summary)["sections"][0]["items"]
    assert [(i["text"], i["detail"]) for i in items] == [
        ("PDF દસ્તાવેજ", ""),  # under the label "દસ્તાવેજ" (Document): not said twice
        ("Lab sheet", "PDF દસ્તાવેજ"),
        ("ચિત્ર", ""),
        ("COVID-19 vaccine", "21 ફેબ્રુ 2021"),
        ("Laboratory report", "PDF દસ્તાવેજ"),  # the file's title said once
    ]


def test_fhir_dates_in_a_summary_read_day_first_in_local_time():
    assert (
        fhir.readable_dates("2020-07-12T09:00:00Z – 2020-07-12T18:00:00+05:30")
        == "12 Jul 2020 14:30 – 12 Jul 2020 18:00"
    )
    assert fhir.readable_dates("lot 2019-05-12; ref v2020-13-45") == "lot 12 May 2019; ref v2020-13-45"


@pytest.mark.django_db
def test_the_doctors_pages_name_the_purpose_in_a_doctors_words(world, client):
    # Not its code (CAREMGT), nor the patient's wording ("... for your treatment").
    request_consent(doctor=world.doctor, patient=world.patient)
    client.force_login(world.doctor)
    page = client.get(reverse("records:doctor_requests")).content.decode()
    assert "CAREMGT" not in page and "your treatment" not in page and "Treatment (care management)" in page
    form = client.get(reverse("records:request_new")).content.decode()
    assert "your treatment" not in form and "your own request" not in form
    assert '<option value="CAREMGT" selected>Treatment (care management)</option>' in form
    client.cookies["django_language"] = "gu"
    assert "સારવાર (કેર મેનેજમેન્ટ)" in client.get(reverse("records:request_new")).content.decode()


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
