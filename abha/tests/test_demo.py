import io
import time

import pytest
from django.core.management import call_command
from django.db.models import Count
from stdnum import luhn

from abha import demo
from abha.models import AbhaAccount, AbhaAddress
from abha.services import MAX_ABHA_PER_MOBILE
from core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]


def test_demo_citizens_are_deterministic_idempotent_and_fast(settings):
    settings.DEBUG = True
    started = time.monotonic()
    call_command("seed_demo", stdout=io.StringIO())
    assert time.monotonic() - started < 10
    first = sorted(AbhaAccount.objects.values_list("abha_number", "first_name", "district_id", "mobile", "channel"))
    assert len(first) == demo.CITIZENS
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert (
        sorted(AbhaAccount.objects.values_list("abha_number", "first_name", "district_id", "mobile", "channel"))
        == first
    )
    assert "(0 new)" in out.getvalue()
    assert AuditEvent.objects.filter(action="abha.enrol").count() == 0  # demo rows are not fake audit history


def test_the_demo_citizen_is_well_known():
    out = io.StringIO()
    demo.seed(out=out)
    citizen = AbhaAccount.objects.get(mobile=demo.DEMO_MOBILE)
    assert citizen.abha_number_display == "91-8641-6080-5957"  # documented in the README
    assert citizen.addresses.get(is_primary=True).full == "asha.patel@sbx"
    assert citizen.abha_number_display in out.getvalue()


def test_demo_data_keeps_the_rules():
    demo.seed(out=io.StringIO())
    for number, mobile in AbhaAccount.objects.values_list("abha_number", "mobile"):
        assert luhn.is_valid(number) and number.startswith("91") and len(mobile) == 10
    per_mobile = AbhaAccount.objects.values("mobile").annotate(n=Count("id"))
    assert max(row["n"] for row in per_mobile) <= MAX_ABHA_PER_MOBILE
    assert AbhaAddress.objects.filter(is_primary=True).count() == AbhaAccount.objects.count()
    assert AbhaAccount.objects.values("district").distinct().count() >= 20
    assert AbhaAccount.objects.exclude(channel="self").filter(assisted_facility__isnull=True).count() == 0
