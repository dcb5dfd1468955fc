import pytest
from django.core.management import call_command

from records.models import CareContext, ConsentRequest, HealthRecord, HiuConsentRequest

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        sorted(CareContext.objects.values_list("facility__name", "reference", "patient__abha_number"), key=str),
        sorted(HealthRecord.objects.values_list("care_context__reference", "hi_type", "version")),
        sorted(ConsentRequest.objects.values_list("requester__username", "status", "patient_address")),
        sorted(HiuConsentRequest.objects.values_list("requester__username", "purpose", "patient_address")),
    )


def test_demo_records_are_deterministic_and_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    first = _snapshot()
    assert len(first[1]) == 11 and len(first[2]) == 1
    assert {name for name, _ref, _abha in first[0]} == {
        "Sir Takhtsinhji General Hospital",
        "Bhavnagar Urban Health Centre Kumbharwada",
    }
    assert first[2][0][:2] == ("doctor", "REQUESTED")
    # One request through ABDM for the demo loop (granted in the sandbox's ABHA app, erased minutes later).
    assert [row[:2] for row in first[3]] == [("doctor", "CAREMGT")]
    call_command("seed_demo")
    assert _snapshot() == first
