"""A consent request is told to the patient by SMS, in their language (a request unseen expires after a day)."""

import pytest
from django.test import override_settings
from django.utils import translation

from abha.models import AbhaAccount

from .factories import request_consent

pytestmark = pytest.mark.django_db


@override_settings(PORTAL_BASE_URL="https://portal.example.in")
def test_a_consent_request_sends_the_patient_an_sms_in_their_language(
    world, sms_outbox, django_capture_on_commit_callbacks
):
    AbhaAccount.objects.filter(pk=world.patient.pk).update(language="gu")
    world.patient.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        request_consent(doctor=world.doctor, patient=world.patient)
    to_patient = [m for m in sms_outbox if m["to"] == world.patient.mobile]
    assert len(to_patient) == 1
    text = to_patient[0]["text"]
    assert "Civil Hospital Ahmedabad" in text and "https://portal.example.in/records/me/consents/" in text
    assert "આરોગ્ય" in text  # Gujarati, the account's language


def test_without_a_kept_language_the_sms_is_in_the_requests_language(
    world, sms_outbox, django_capture_on_commit_callbacks
):
    with translation.override("hi"), django_capture_on_commit_callbacks(execute=True):
        request_consent(doctor=world.doctor, patient=world.patient)  # the doctor's request, in Hindi
    text = next(m["text"] for m in sms_outbox if m["to"] == world.patient.mobile)
    assert "स्वास्थ्य रिकॉर्ड" in text
