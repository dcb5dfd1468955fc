"""The public achievements page: anyone may read it, it says nothing about any person, it is light and cached, and
its numbers are the officials' dashboard's."""

import io
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from abha.models import AbhaAccount
from abha.tests.factories import AbhaAccountFactory
from core import counters
from core.tests.factories import StateOfficialFactory

pytestmark = pytest.mark.django_db

URL = "/achievements/"


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    settings.DEBUG = False


def _figures(response):
    return response.context["figures"]


def test_anyone_reads_the_achievements_with_the_dashboards_numbers(client, api_as, demo):
    response = client.get(URL)
    assert response.status_code == 200
    figures = _figures(response)
    api = api_as(StateOfficialFactory())
    summary = api.get("/api/v1/dashboard/summary/").json()
    linked = ("records_linked", "records_linked_on_abdm", "records_waiting_for_abdm")
    for name in ("abha_accounts", "abha_coverage_percent", *linked, "facilities_verified"):
        assert figures.summary[name] == summary[name]
    for name in ("professionals_verified", "tokens_this_month", "population"):
        assert figures.summary[name] == summary[name]
    districts = api.get("/api/v1/dashboard/districts/").json()
    assert [(r.lgd_code, r.abha_accounts, r.coverage_percent) for r in figures.districts] == [
        (r["district_lgd"], r["abha_accounts"], r["coverage_percent"]) for r in districts
    ]
    board = api.get("/api/v1/microsites/leaderboard/").json()
    assert figures.microsites == len(board)
    assert {first.microsite for first in figures.firsts} == {
        row["name"] for row in board if row["firsts"] or row["first_to_complete"]
    }
    html = response.content.decode()
    # The headline counts what ABDM confirmed, as the dashboard's does; what waits for ABDM is said under it.
    assert "Records linked (confirmed by ABDM)" in html
    waiting = summary["records_waiting_for_abdm"]
    digits = re.sub(r"(?<=\d),(?=\d)", "", html)  # 2,25,990 or 225,990 as 225990
    assert not waiting or f"{waiting} linked here, waiting for ABDM" in digits


def test_the_achievements_name_no_person():
    citizen = AbhaAccountFactory(first_name="Zubeida", last_name="Kharawala")
    counters.rebuild(fix=True)
    html = Client().get(URL).content.decode()
    assert "Zubeida" not in html and "Kharawala" not in html and citizen.abha_number[-4:] not in html
    assert "1" in html  # the account is counted


def test_the_achievements_are_cached_for_five_minutes():
    AbhaAccountFactory()
    counters.rebuild(fix=True)
    first = _figures(Client().get(URL)).summary["abha_accounts"]
    AbhaAccountFactory()
    counters.rebuild(fix=True)
    assert _figures(Client().get(URL)).summary["abha_accounts"] == first  # from the cache
    assert AbhaAccount.objects.count() == first + 1


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "Gujarat's digital health achievements"), ("hi", "डिजिटल स्वास्थ्य"), ("gu", "ડિજિટલ આરોગ્ય")],
)
def test_the_achievements_read_in_three_languages_by_header_or_cookie(language, heading):
    by_header = Client().get(URL, headers={"accept-language": language}).content.decode()
    assert heading in by_header
    client = Client()
    client.cookies["django_language"] = language
    assert heading in client.get(URL).content.decode()


def test_the_achievements_page_is_light_for_slow_3g(demo):
    response = Client().get(URL)
    css = sum(Path(finders.find(name)).stat().st_size for name in ("css/portal.css",))
    html = response.content.decode()
    assert "<img" not in html
    assert len(response.content) + css < 25_000


def test_the_home_page_shows_anonymous_visitors_the_achievements(client):
    assert reverse("microsites:achievements") in client.get("/").content.decode()
