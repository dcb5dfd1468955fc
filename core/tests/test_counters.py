import datetime

import pytest
from django.core.management import call_command
from django.db import transaction

from core import counters
from core.models import CounterTotal, DailyCount, DistrictDailyCount, FacilityTotal

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
        {"metric": "test_metric", "district_lgd": 438, "counted": 0, "daily": 0, "days": 0, "source": 2},
        {"metric": "test_metric", "district_lgd": 443, "counted": 4, "daily": 4, "days": 4, "source": 5},
        {"metric": "test_metric", "district_lgd": 438, "facility_key": 3, "counted": 0, "source": 2},
    ]
    counters.rebuild(["test_metric"], fix=True)
    assert counters.rebuild(["test_metric"]) == []
    assert counters.totals_by_district("test_metric") == {443: 5, 438: 2}
    assert _facility_totals("test_metric") == {(3, 438): 2}


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


def _values(model, metric, *key):
    """{key fields: value} of one counter table's rows for `metric`."""
    return {tuple(row[:-1]): row[-1] for row in model.objects.filter(metric=metric).values_list(*key, "value")}


def _facility_totals(metric):
    return _values(FacilityTotal, metric, "facility_key", "district_lgd")


def test_facility_totals_follow_every_write_path():
    """count_add (the SQL function) and count_add_many (COPY and set-based upserts) keep the running totals per
    facility; events without a facility have none."""
    counters.count_add(metric="m", district_lgd=443, facility_key=7, day=DAY, delta=3)
    counters.count_add(metric="m", district_lgd=443, facility_key=7, day=DAY + datetime.timedelta(days=1))
    counters.count_add(metric="m", district_lgd=438, facility_key=7, day=DAY)  # the same facility, another district
    counters.count_add(metric="m", district_lgd=443, day=DAY, delta=5)  # no facility
    counters.count_add_many(metric="m", rows=[(DAY, 443, 7, 2), (DAY, 443, 8, 1), (DAY, 443, 8, -1), (DAY, 438, 0, 9)])
    counters.count_add(metric="other", district_lgd=443, facility_key=7, day=DAY)
    assert _facility_totals("m") == {(7, 443): 6, (7, 438): 1, (8, 443): 0}
    assert _facility_totals("other") == {(7, 443): 1}
    daily = DailyCount.objects.filter(metric="m", facility_key__gt=0)
    assert sum(daily.values_list("value", flat=True)) == sum(_facility_totals("m").values())
    assert dict(CounterTotal.objects.filter(metric="m").values_list("district_lgd", "value")) == {443: 11, 438: 10}


def test_the_sql_function_keeps_the_facility_totals():
    """Scan & Share's one-statement write path calls core_count_add itself."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT core_count_add('m', %s, 443, 7, 2)", [DAY])
        cursor.execute("SELECT core_count_add('m', %s, 443, 0, 1)", [DAY])
    assert _facility_totals("m") == {(7, 443): 2}


def test_rebuild_reports_and_fixes_drift_in_the_facility_totals(monkeypatch, capsys):
    truth = [(DAY, 443, 7, 5), (DAY, 443, 8, 1), (DAY, 438, 0, 2)]
    monkeypatch.setitem(counters._sources, "test_metric", lambda: truth)
    for day, district, facility, value in truth:
        counters.count_add(metric="test_metric", district_lgd=district, facility_key=facility, day=day, delta=value)
    assert counters.rebuild(["test_metric"]) == []
    # The facility totals drift (a write that bypassed count_add), the district figures do not.
    FacilityTotal.objects.filter(metric="test_metric", facility_key=7).update(value=3)
    FacilityTotal.objects.create(metric="test_metric", facility_key=9, district_lgd=443, value=2)
    assert counters.rebuild(["test_metric"]) == [
        {"metric": "test_metric", "district_lgd": 443, "facility_key": 7, "counted": 3, "source": 5},
        {"metric": "test_metric", "district_lgd": 443, "facility_key": 9, "counted": 2, "source": 0},
    ]
    call_command("rebuild_counters", "--metric", "test_metric")
    assert "drift test_metric district 443 facility 7: counted 3, source 5" in capsys.readouterr().out
    call_command("rebuild_counters", "--metric", "test_metric", "--fix")
    assert counters.rebuild(["test_metric"]) == []
    assert _facility_totals("test_metric") == {(7, 443): 5, (8, 443): 1}


def _district_days(metric):
    return _values(DistrictDailyCount, metric, "day", "district_lgd")


def test_district_days_are_the_daily_rows_summed_over_facilities_on_every_write_path():
    """What the dashboard's date ranges and trends read (a few rows per day, not one per facility and day)."""
    later = DAY + datetime.timedelta(days=1)
    counters.count_add(metric="m", district_lgd=443, facility_key=7, day=DAY, delta=3)
    counters.count_add(metric="m", district_lgd=443, facility_key=8, day=DAY)
    counters.count_add(metric="m", district_lgd=443, day=later, delta=-1)
    counters.count_add_many(metric="m", rows=[(DAY, 443, 9, 2), (later, 438, 0, 5), (later, 438, 7, 1)])
    assert _district_days("m") == {(DAY, 443): 6, (later, 443): -1, (later, 438): 6}
    summed = {}
    for day, district, value in DailyCount.objects.filter(metric="m").values_list("day", "district_lgd", "value"):
        summed[(day, district)] = summed.get((day, district), 0) + value
    assert summed == _district_days("m")
    assert counters.total("m", [443], since=DAY, until=DAY) == 6
    assert counters.series("m", [438], interval="day") == [(later, 6)]


def test_rebuild_reports_and_fixes_drift_in_the_district_days(monkeypatch):
    truth = [(DAY, 443, 7, 5), (DAY, 438, 0, 2)]
    monkeypatch.setitem(counters._sources, "test_metric", lambda: truth)
    for day, district, facility, value in truth:
        counters.count_add(metric="test_metric", district_lgd=district, facility_key=facility, day=day, delta=value)
    DistrictDailyCount.objects.filter(metric="test_metric", district_lgd=443).update(value=4)
    assert counters.rebuild(["test_metric"]) == [
        {"metric": "test_metric", "district_lgd": 443, "counted": 5, "daily": 5, "days": 4, "source": 5}
    ]
    counters.rebuild(["test_metric"], fix=True)
    assert counters.rebuild(["test_metric"]) == []
    assert _district_days("test_metric") == {(DAY, 443): 5, (DAY, 438): 2}


def _last_days(metric):
    rows = FacilityTotal.objects.filter(metric=metric).values_list("facility_key", "district_lgd", "last_day")
    return {(facility, district): last_day for facility, district, last_day in rows}


def test_facility_totals_keep_the_latest_day_with_a_positive_change_on_every_write_path():
    """What "live on Scan & Share" reads: a later day moves it forward, an earlier day or a negative change never
    moves it, a facility that only lost counts has none."""
    later, latest = DAY + datetime.timedelta(days=3), DAY + datetime.timedelta(days=9)
    counters.count_add(metric="m", district_lgd=443, facility_key=7, day=later)
    counters.count_add(metric="m", district_lgd=443, facility_key=7, day=DAY, delta=2)  # an older day
    counters.count_add(metric="m", district_lgd=443, facility_key=7, day=latest, delta=-1)  # a removal
    counters.count_add(metric="m", district_lgd=443, facility_key=8, day=DAY, delta=-1)
    counters.count_add_many(
        metric="m", rows=[(DAY, 438, 7, 1), (latest, 438, 7, -1), (later, 443, 9, 2), (latest, 443, 9, 1)]
    )
    counters.count_add_many(metric="m", rows=[(DAY, 443, 9, 4)])  # an older day in a later load
    assert _last_days("m") == {(7, 443): later, (8, 443): None, (7, 438): DAY, (9, 443): latest}


def test_the_sql_function_keeps_the_latest_day():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT core_count_add('m', %s, 443, 7, 1)", [DAY + datetime.timedelta(days=1)])
        cursor.execute("SELECT core_count_add('m', %s, 443, 7, 1)", [DAY])
        cursor.execute("SELECT core_count_add('m', %s, 443, 7, -1)", [DAY + datetime.timedelta(days=5)])
    assert _last_days("m") == {(7, 443): DAY + datetime.timedelta(days=1)}


def test_rebuild_checks_the_latest_days_of_metrics_counted_on_their_exact_day(monkeypatch, capsys):
    truth = [(DAY, 443, 7, 5), (DAY + datetime.timedelta(days=2), 443, 7, 1)]
    monkeypatch.setitem(counters._sources, "test_metric", lambda: truth)
    monkeypatch.setattr(counters, "_exact_days", {"test_metric"})
    for day, district, facility, value in truth:
        counters.count_add(metric="test_metric", district_lgd=district, facility_key=facility, day=day, delta=value)
    assert counters.rebuild(["test_metric"]) == []
    FacilityTotal.objects.filter(metric="test_metric").update(last_day=DAY)  # the sums still agree
    assert counters.rebuild(["test_metric"]) == [
        {
            "metric": "test_metric",
            "district_lgd": 443,
            "facility_key": 7,
            "counted": 6,
            "source": 6,
            "counted_last_day": DAY,
            "source_last_day": DAY + datetime.timedelta(days=2),
        }
    ]
    call_command("rebuild_counters", "--metric", "test_metric")
    assert "last day counted 2026-01-15, source 2026-01-17" in capsys.readouterr().out
    call_command("rebuild_counters", "--metric", "test_metric", "--fix")
    assert _last_days("test_metric") == {(7, 443): DAY + datetime.timedelta(days=2)}
    # Metrics whose source dates a change differently from its counting day are checked on sums only.
    monkeypatch.setattr(counters, "_exact_days", set())
    FacilityTotal.objects.filter(metric="test_metric").update(last_day=DAY)
    assert counters.rebuild(["test_metric"]) == []


def test_the_migration_fills_the_latest_days_from_the_daily_rows():
    from importlib import import_module

    from django.db import connection

    backfill = import_module("core.migrations.0011_facilitytotal_last_day").BACKFILL
    counters.count_add_many(metric="m", rows=[(DAY, 443, 7, 2), (DAY + datetime.timedelta(days=4), 443, 7, -1)])
    counters.count_add_many(metric="m", rows=[(DAY + datetime.timedelta(days=1), 438, 7, 1), (DAY, 443, 8, -1)])
    FacilityTotal.objects.update(last_day=None)  # rows as migration 0008 left them
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    assert _last_days("m") == {(7, 443): DAY, (7, 438): DAY + datetime.timedelta(days=1), (8, 443): None}
