import datetime

import pytest
from django.core.management import call_command
from django.db import transaction

from core import counters
from core.models import DailyCount

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 1, 15)


def test_count_add_upserts_one_row_per_grain():
    counters.count_add(metric="m", district_lgd=443, day=DAY)
    counters.count_add(metric="m", district_lgd=443, day=DAY, delta=4)
    counters.count_add(metric="m", district_lgd=443, facility_key=7, day=DAY)
    counters.count_add(metric="m", district_lgd=438, day=DAY + datetime.timedelta(days=1), delta=-1)
    assert DailyCount.objects.count() == 3
    assert counters.totals_by_district("m") == {443: 6, 438: -1}
    assert counters.total("m", [443]) == 6
    assert counters.series("m", interval="day") == [(DAY, 6), (DAY + datetime.timedelta(days=1), -1)]
    assert counters.series("m", interval="month") == [(datetime.date(2026, 1, 1), 5)]


def test_a_rolled_back_event_leaves_no_count():
    with pytest.raises(RuntimeError), transaction.atomic():
        counters.count_add(metric="m", district_lgd=443, day=DAY)
        raise RuntimeError("the event failed")
    assert not DailyCount.objects.exists()


def test_rebuild_reports_drift_and_fixes_it(monkeypatch):
    truth = [(DAY, 443, 0, 5), (DAY, 438, 3, 2)]
    monkeypatch.setitem(counters._sources, "test_metric", lambda: truth)
    counters.count_add(metric="test_metric", district_lgd=443, day=DAY, delta=4)
    drift = counters.rebuild(["test_metric"])
    assert drift == [
        {"metric": "test_metric", "district_lgd": 438, "counted": 0, "daily": 0, "source": 2},
        {"metric": "test_metric", "district_lgd": 443, "counted": 4, "daily": 4, "source": 5},
    ]
    counters.rebuild(["test_metric"], fix=True)
    assert counters.rebuild(["test_metric"]) == []
    assert counters.totals_by_district("test_metric") == {443: 5, 438: 2}


def test_running_totals_follow_the_daily_rows():
    from core.models import CounterTotal

    counters.count_add(metric="m", district_lgd=443, day=DAY, delta=3)
    counters.count_add_many(metric="m", rows=[(DAY, 443, 0, 2), (DAY, 438, 9, 1)])
    assert dict(CounterTotal.objects.filter(metric="m").values_list("district_lgd", "value")) == {443: 5, 438: 1}
    assert counters.totals_by_district("m", until=DAY) == {443: 5, 438: 1}
    assert counters.total("m") == 6


def test_rebuild_counters_command_reports(capsys):
    call_command("rebuild_counters", "--fix")
    call_command("rebuild_counters")
    assert "No drift" in capsys.readouterr().out
