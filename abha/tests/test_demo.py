"""Demo citizens are ABDM's: created in the local sandbox (its bulk helper) with the numbers it mints, kept here,
and signed in through ABDM like anyone."""

import io
import time

import pytest
from django.core.management import call_command
from django.db.models import Count

from abha import demo
from abha.models import AbhaAccount, AbhaAddress
from core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography", "abdm_sandbox")]


def test_demo_citizens_come_from_the_sandbox_once_and_fast(settings):
    started = time.monotonic()
    demo.seed(out=io.StringIO())  # 300 ABHAs at the sandbox in one call, then here in bulk
    assert time.monotonic() - started < 10
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    first = sorted(AbhaAccount.objects.values_list("abha_number", "first_name", "district_id", "mobile", "channel"))
    assert len(first) == demo.CITIZENS
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert (
        sorted(AbhaAccount.objects.values_list("abha_number", "first_name", "district_id", "mobile", "channel"))
        == first
    )
    assert "(0 new" in out.getvalue()
    assert AuditEvent.objects.filter(action="abha.enrol").count() == 0  # demo rows are not fake audit history


def test_the_demo_citizen_signs_in_through_abdm(otp_api):
    out = io.StringIO()
    demo.seed(out=out)
    citizen = AbhaAccount.objects.get(mobile=demo.DEMO_MOBILE, first_name="Asha")
    assert citizen.abha_number_display in out.getvalue()
    response = otp_api.sign_in(citizen.abha_number_display, demo.DEMO_MOBILE)
    assert response.status_code == 200, response.json()
    assert response.json()["abha_number"] == citizen.abha_number_display
    citizen.refresh_from_db()
    assert citizen.abdm_token  # ABDM knows the demo citizen's ABHA


def test_demo_data_keeps_the_rules():
    demo.seed(out=io.StringIO())
    for number, mobile in AbhaAccount.objects.values_list("abha_number", "mobile"):
        assert len(number) == 14 and number.isdigit() and len(mobile) == 10
    per_mobile = AbhaAccount.objects.values("mobile").annotate(n=Count("id"))
    assert max(row["n"] for row in per_mobile) <= 6
    assert AbhaAddress.objects.filter(is_primary=True).count() == AbhaAccount.objects.count()
    assert AbhaAccount.objects.values("district").distinct().count() >= 20
    assert AbhaAccount.objects.exclude(channel="self").filter(assisted_facility__isnull=True).count() == 0
