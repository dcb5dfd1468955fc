import pytest
from django.core.management import CommandError, call_command

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
    with pytest.raises(CommandError, match="records"):
        call_command("generate_scale", "--records", "10")
