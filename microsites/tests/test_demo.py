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
