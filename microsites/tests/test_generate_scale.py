import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import timezone

from abha.models import AbhaAccount, AbhaAddress
from core import counters
from core.enums import CountMetric
from facilities.models import Facility

pytestmark = pytest.mark.django_db


def test_generate_scale_creates_consistent_rows_and_counters():
    call_command("generate_scale", "--abha", "3000", "--facilities", "200", "--chunk", "1000")
    assert AbhaAccount.objects.count() == 3000 == AbhaAddress.objects.count()
    assert Facility.objects.count() == 200
    assert AbhaAccount.objects.values("district").distinct().count() > 25  # spread across the state
    big, small = (AbhaAccount.objects.filter(district_id=code).count() for code in (438, 444))  # Ahmedabad, Dang
    assert big > 10 * small  # in proportion to population
    assert all(n.startswith("99") for n in AbhaAccount.objects.values_list("abha_number", flat=True)[:50])
    assert counters.rebuild() == []  # counters exactly match the generated rows
    assert counters.total(CountMetric.ABHA_CREATED) == 3000
    # A second run adds more without colliding.
    call_command("generate_scale", "--abha", "500", "--seed", "2")
    assert AbhaAccount.objects.count() == 3500
    assert counters.rebuild() == []


def test_generate_scale_refuses_what_it_cannot_make():
    with pytest.raises(CommandError, match="verified facilities"):
        call_command("generate_scale", "--records", "10")
    call_command("generate_scale", "--facilities", "5")
    with pytest.raises(CommandError, match="ABHA accounts"):
        call_command("generate_scale", "--tokens", "10")
    with pytest.raises(CommandError, match="negative"):
        call_command("generate_scale", "--professionals", "-1")


def test_generate_scale_links_records_issues_tokens_and_registers_professionals_with_exact_counters():
    import json

    from django.db.models import Count, Max

    from facilities.enums import FacilityStatus
    from facilities.models import Professional
    from records.fhir import bundle_sha256, summarize
    from records.models import CareContext, HealthRecord
    from scanshare.models import ScanSequence, ScanToken
    from scanshare.services import token_issue

    call_command("generate_scale", "--abha", "3000", "--facilities", "300", "--chunk", "700")
    call_command("generate_scale", "--records", "2500", "--tokens", "1500", "--professionals", "800", "--chunk", "700")
    assert HealthRecord.objects.count() == 2500
    assert 1800 < CareContext.objects.count() < 2500  # a quarter of visits carry a second record
    assert Professional.objects.count() == 800 and ScanToken.objects.count() == 1500
    assert counters.rebuild() == []  # every counter equals its source table after the bulk load
    assert counters.total(CountMetric.RECORDS_LINKED) == 2500
    assert counters.total(CountMetric.SCAN_TOKENS) == 1500
    assert counters.total(CountMetric.PROFESSIONALS_VERIFIED) == Professional.objects.filter(status="verified").count()

    # Records: at verified facilities, for active accounts, mostly of the facility's own district.
    records = HealthRecord.objects.select_related("facility", "patient")
    assert not records.exclude(facility__status=FacilityStatus.VERIFIED).exists()
    assert not records.filter(patient__status="deactivated").exists()
    same_district = records.filter(patient__district_id=models.F("facility__district_id")).count()
    assert same_district > 0.9 * 2500
    # Each bundle is a valid document whose stored hash and summary are those of the stored JSON.
    record = records.order_by("?").first()
    assert record.bundle["resourceType"] == "Bundle"
    assert record.bundle_sha256 == bundle_sha256(record.bundle)
    assert json.loads(json.dumps(record.summary)) == json.loads(json.dumps(summarize(record.bundle)))
    assert record.patient.abha_number.replace("-", "") in json.dumps(record.bundle).replace("-", "")
    # Big districts get more: Ahmedabad (438) against Dang (444).
    assert records.filter(facility__district_id=438).count() > 5 * max(
        1, records.filter(facility__district_id=444).count()
    )

    # Tokens are numbered without gaps per counter and day, and a real share goes on after the last number.
    numbering = ScanToken.objects.values("counter_id", "day").annotate(n=Count("id"), top=Max("number"))
    assert all(row["n"] == row["top"] for row in numbering)
    sequences = {(s.counter_id, s.day): s.last for s in ScanSequence.objects.all()}
    assert all(sequences[(row["counter_id"], row["day"])] == row["top"] for row in numbering)
    today_token = ScanToken.objects.filter(day=timezone.localdate()).select_related("facility", "counter").first()
    if today_token is not None:
        account = today_token.patient
        other = AbhaAccount.objects.filter(status="active").exclude(pk=account.pk).first()
        token, created = token_issue(
            account=other,
            actor=other.user,
            hip_id=today_token.facility.facility_id,
            counter_code=today_token.counter.code,
        )
        assert created and token.number == sequences[(today_token.counter_id, today_token.day)] + 1
    assert counters.rebuild([CountMetric.SCAN_TOKENS]) == []


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_chunks_are_written_on_a_second_connection_with_exact_counters(monkeypatch):
    """The command's own run (not a test's transaction): chunks are written by two writer threads, each on its own
    connection, while the next is made; both upsert the same counter rows without deadlocking, and the counters
    come out exact."""
    from microsites.management.commands import generate_scale

    threads = set()
    write = generate_scale._write_abha_chunk

    def recording(*args):
        threads.add(threading.get_ident())
        write(*args)

    monkeypatch.setattr(generate_scale, "_write_abha_chunk", recording)
    call_command("generate_scale", "--abha", "6000", "--chunk", "500")
    assert threads and threading.get_ident() not in threads
    assert AbhaAccount.objects.count() == 6000 == AbhaAddress.objects.count()
    assert counters.total(CountMetric.ABHA_CREATED) == 6000
    assert counters.rebuild() == []
