"""Issue 19 #13: the dashboard's trend is a column per day or month, the empty ones as zero, so one busy day reads
as a time series and not as a dot."""

import datetime

import pytest
from django.utils import timezone

from abha.tests.factories import AbhaAccountFactory
from core import counters
from core.tests.factories import StateOfficialFactory
from microsites import charts
from microsites.dashboard import TREND_WINDOW, trend_periods
from records.tests.browser import fits_phone, signed_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
def contexts():
    opened = []
    yield opened
    for context in opened:
        context.close()


def test_empty_days_between_and_around_points_are_zero():
    today = timezone.localdate()
    points = [{"period": today - datetime.timedelta(days=2), "value": 5}]
    filled = trend_periods(points, "day")
    assert len(filled) == TREND_WINDOW["day"] and filled[-1] == {"period": today, "value": 0}
    assert [p["value"] for p in filled[-3:]] == [5, 0, 0]
    since, until = datetime.date(2025, 1, 30), datetime.date(2025, 2, 2)
    ranged = trend_periods([{"period": datetime.date(2025, 2, 1), "value": 3}], "day", since, until)
    assert [(p["period"].day, p["value"]) for p in ranged] == [(30, 0), (31, 0), (1, 3), (2, 0)]


def test_months_run_through_year_ends():
    points = [{"period": datetime.date(2024, 11, 1), "value": 2}, {"period": datetime.date(2025, 2, 1), "value": 4}]
    filled = trend_periods(points, "month", datetime.date(2024, 11, 15), datetime.date(2025, 2, 28))
    assert [(p["period"].isoformat(), p["value"]) for p in filled] == [
        ("2024-11-01", 2),
        ("2024-12-01", 0),
        ("2025-01-01", 0),
        ("2025-02-01", 4),
    ]


def test_one_busy_day_is_one_full_column_among_zero_ones():
    days = [(datetime.date(2025, 3, d), 7 if d == 3 else 0) for d in range(1, 6)]
    chart = charts.column_chart(days)
    heights = [column["height"] for column in chart["columns"]]
    assert heights[2] == chart["baseline"] - 10 and heights.count(0) == 4
    xs = [column["x"] for column in chart["columns"]]
    assert xs == sorted(xs) and chart["columns"][-1]["x"] + chart["columns"][-1]["width"] <= chart["right"]
    assert charts.column_chart([]) is None


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "hi", "gu"])
def test_dashboard_trend_reads_as_a_series_with_one_busy_day(live_server, browser, contexts, screenshot, language):
    official = StateOfficialFactory()
    AbhaAccountFactory.create_batch(3)
    counters.rebuild(fix=True)  # factories bypass the services that keep the counters
    for viewport, name in [(PHONE, "phone"), (DESKTOP, "desktop")]:
        page = signed_in(contexts, browser, live_server, official, viewport, language)
        page.goto(live_server.url + "/dashboard/?interval=day")
        columns = page.locator(".column-chart rect.column")
        assert columns.count() == TREND_WINDOW["day"]
        values = [int(v) for v in columns.evaluate_all("els => els.map(e => e.dataset.value)")]
        assert values[-1] == 3 and values[:-1] == [0] * (TREND_WINDOW["day"] - 1)
        assert columns.last.bounding_box()["height"] > 50
        assert fits_phone(page)
        page.locator("#trend-heading").scroll_into_view_if_needed()
        screenshot(page, f"dashboard-trend-{language}-{name}")
