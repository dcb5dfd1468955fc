import pytest
from django.core.management import call_command

from microsites.models import Microsite
from microsites.selectors import leaderboard

pytestmark = pytest.mark.django_db


def test_demo_microsites_tell_gujarats_story(settings):
    """Bhavnagar, Ahmedabad and Surat completed their milestones (with dates); Rajkot is close; Bhavnagar was the
    first to reach the ABHA target they all share."""
    settings.DEBUG = True
    call_command("seed_demo")
    rows = {row.microsite.name: row for row in leaderboard(Microsite.objects.all())}
    assert set(rows) == {"Bhavnagar", "Ahmedabad", "Surat", "Rajkot"}
    for name in ("Bhavnagar", "Ahmedabad", "Surat"):
        assert rows[name].achieved == rows[name].total == 4
        assert rows[name].completed_at is not None
    assert rows["Rajkot"].achieved == 3
    assert sum(row.first_to_complete for row in rows.values()) == 1
    assert [first.metric for first in rows["Bhavnagar"].firsts] == ["abha_created"]
    assert not any(rows[name].firsts for name in ("Ahmedabad", "Surat", "Rajkot"))
    call_command("seed_demo")  # again: nothing added twice
    assert Microsite.objects.get(name="Bhavnagar").milestones.count() == 4


def test_scaled_gujarat_tells_one_story_with_exact_counters_and_is_seeded_once(settings, monkeypatch):
    """DEMO_SCALE: ABHA numbers of the past year at ~70 % of the districts' (scaled) people, 100 microsites on a
    timeline that ends today, Bhavnagar first to link its records target, counters without drift, one seeding."""
    import datetime
    import io

    from django.utils import timezone

    from abha.models import AbhaAccount
    from core.models import District
    from facilities.enums import FacilityType
    from microsites import dashboard, demo_scale
    from scanshare.models import ScanToken

    settings.DEBUG = True
    settings.DEMO_SCALE = 100
    # A smaller state than 1/100 of Gujarat's ABHA numbers and records keeps the test quick; facilities as they are.
    monkeypatch.setattr(demo_scale, "ABHA", 2_000_000)
    monkeypatch.setattr(demo_scale, "POPULATION", round(2_000_000 / demo_scale.COVERAGE))
    monkeypatch.setattr(demo_scale, "RECORDS", 500_000)
    monkeypatch.setattr(demo_scale, "RECORDS_RACE", 20_000)
    call_command("seed_demo", stdout=io.StringIO())

    summary = dashboard.summary(District.objects.filter(state_id=24))
    assert 66 < summary["abha_coverage_percent"] < 72
    assert summary["records_linked"] == 5_000
    assert summary["facilities_verified"] + summary["facilities_submitted"] <= 178
    year_ago = timezone.now() - datetime.timedelta(days=366)
    assert not AbhaAccount.objects.filter(abha_number__startswith="99", created_at__lt=year_ago).exists()
    assert not ScanToken.objects.exclude(facility__facility_type=FacilityType.MEDICAL_COLLEGE).exists()

    assert Microsite.objects.count() == 100
    board = leaderboard(Microsite.objects.all())
    rows = {row.microsite.name: row for row in board}
    today = timezone.localdate()
    for name in ("Bhavnagar", "Ahmedabad", "Surat"):
        assert rows[name].achieved == rows[name].total == 4
        assert timezone.localdate(rows[name].completed_at) <= rows[name].microsite.deadline < today
    assert rows["Bhavnagar"].first_to_complete
    assert rows["Rajkot"].achieved == 3 and rows["Rajkot"].microsite.deadline > today
    assert [(first.metric, first.target) for first in rows["Bhavnagar"].firsts] == [("records_linked", 200)]
    assert [row.microsite.name for row in board if row.firsts] == ["Bhavnagar"]
    for row in board:
        for milestone in row.microsite.milestones.all():
            assert milestone.achieved_at is None or timezone.localdate(milestone.achieved_at) <= today

    out = io.StringIO()
    call_command("rebuild_counters", stdout=out)
    assert "No drift" in out.getvalue()

    accounts = AbhaAccount.objects.count()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)  # a restart: nothing generated again
    assert "already seeded" in out.getvalue()
    assert AbhaAccount.objects.count() == accounts and Microsite.objects.count() == 100
