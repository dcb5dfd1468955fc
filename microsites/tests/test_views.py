import csv
import datetime
import io

import pytest
from django.template.loader import get_template
from django.utils import timezone

from abha.tests.factories import AbhaAccountFactory
from core import counters
from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory, UserFactory
from facilities.tests.factories import FacilityFactory
from microsites.enums import Metric
from microsites.models import Milestone
from microsites.tests.factories import MicrositeFactory

pytestmark = pytest.mark.django_db
AHMADABAD = 438


@pytest.fixture
def data():
    AbhaAccountFactory.create_batch(4)  # Bhavnagar
    AbhaAccountFactory.create_batch(2, district_id=AHMADABAD, pincode="380001")
    FacilityFactory.create_batch(2)
    FacilityFactory(district_id=AHMADABAD, pincode="380001")
    counters.rebuild(fix=True)  # factories bypass the services that keep the counters
    return {
        "bhavnagar": MicrositeFactory(name="Bhavnagar", districts=[443]),
        "ahmedabad": MicrositeFactory(name="Ahmedabad", districts=[AHMADABAD]),
    }


def test_dashboard_is_for_officials_only(client, data):
    assert client.get("/dashboard/").status_code == 302  # to sign-in
    client.force_login(UserFactory())
    assert client.get("/dashboard/").status_code == 403
    client.force_login(StateOfficialFactory())
    assert client.get("/dashboard/").status_code == 200


def test_state_dashboard_numbers_match_the_source_tables(client, data):
    client.force_login(StateOfficialFactory())
    rows = list(csv.DictReader(io.StringIO(client.get("/dashboard/?format=csv").content.decode("utf-8-sig"))))
    by_district = {row["district"]: row for row in rows}
    assert len(rows) == 33
    assert by_district["Bhavnagar"]["abha_accounts"] == "4"
    assert by_district["Bhavnagar"]["population"] == "2880365"
    assert float(by_district["Bhavnagar"]["coverage_percent"]) == round(100 * 4 / 2880365, 4)
    assert by_district["Ahmadabad"]["facilities_verified"] == "1"
    assert by_district["Morbi"]["coverage_percent"] == ""  # no denominator: no ratio


def test_district_officer_sees_only_their_districts(client, data):
    client.force_login(DistrictOfficerFactory())
    rows = list(csv.DictReader(io.StringIO(client.get("/dashboard/?format=csv").content.decode("utf-8-sig"))))
    assert [row["district"] for row in rows] == ["Bhavnagar"]
    page = client.get("/microsites/").content.decode()
    assert "Bhavnagar" in page and "Ahmedabad" not in page
    assert client.get(f"/microsites/{data['ahmedabad'].uuid}/").status_code == 404


def test_official_adds_a_milestone_in_the_browser_form(client, data):
    client.force_login(StateOfficialFactory())
    url = f"/microsites/{data['bhavnagar'].uuid}/"
    response = client.post(url, {"metric": Metric.ABHA_CREATED, "target": "3", "due_date": "2025-06-30"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "4 of 3 by 30 Jun 2025" in page and "Achieved" in page


def test_bad_milestone_input_is_a_form_error_not_a_500(client, data):
    client.force_login(StateOfficialFactory())
    url = f"/microsites/{data['bhavnagar'].uuid}/"
    response = client.post(url, {"metric": "nonsense", "target": "-4", "due_date": "yesterday"})
    assert response.status_code == 400
    assert response.content.decode().count('class="field-error"') == 3
    assert not Milestone.objects.exists()


def test_citizen_cannot_post_a_milestone(client, data):
    client.force_login(UserFactory())
    response = client.post(
        f"/microsites/{data['bhavnagar'].uuid}/",
        {"metric": Metric.ABHA_CREATED, "target": "3", "due_date": "2025-06-30"},
    )
    assert response.status_code == 404
    assert not Milestone.objects.exists()


def test_api_summary_matches_direct_counts(api_as, data):
    response = api_as(StateOfficialFactory()).get("/api/v1/dashboard/summary/")
    assert response.status_code == 200
    body = response.json()
    assert body["abha_accounts"] == 6
    assert body["facilities_verified"] == 3
    assert body["abha_coverage_percent"] == round(100 * 6 / 60_439_692, 4)
    assert (body["tokens_today"], body["records_linked"], body["professionals_verified"]) == (0, 0, 0)
    one = api_as(StateOfficialFactory()).get("/api/v1/dashboard/summary/?district_lgd=443").json()
    assert one["abha_accounts"] == 4 and one["facilities_verified"] == 2


def test_api_denies_other_districts_and_bad_input(api_as, api_client, data):
    officer = api_as(DistrictOfficerFactory())
    assert officer.get("/api/v1/dashboard/summary/?district_lgd=438").status_code == 403
    assert officer.get("/api/v1/dashboard/summary/?district_lgd=abc").status_code == 400
    assert [row["district_lgd"] for row in officer.get("/api/v1/dashboard/districts/").json()] == [443]
    assert api_as(UserFactory()).get("/api/v1/dashboard/summary/").status_code == 403
    assert api_client.get("/api/v1/dashboard/summary/").status_code == 401


def test_api_microsite_detail_and_leaderboard(api_as, data):
    official = StateOfficialFactory()
    Milestone.objects.create(
        microsite=data["bhavnagar"], metric=Metric.FACILITIES_VERIFIED, target=2, due_date=datetime.date(2025, 6, 1)
    )
    client = api_as(official)
    detail = client.get(f"/api/v1/microsites/{data['bhavnagar'].uuid}/").json()
    assert detail["districts"] == [443]
    assert (detail["milestones"][0]["value"], detail["milestones"][0]["status"]) == (2, "achieved")
    board = client.get("/api/v1/microsites/leaderboard/").json()
    assert [row["name"] for row in board] == ["Bhavnagar", "Ahmedabad"]
    listing = client.get("/api/v1/microsites/").json()
    assert listing["count"] == 2
    assert api_as(DistrictOfficerFactory()).get(f"/api/v1/microsites/{data['ahmedabad'].uuid}/").status_code == 404


def test_api_timeseries_by_day_and_month(api_as, data):
    client = api_as(StateOfficialFactory())
    today = timezone.localdate().isoformat()
    days = client.get("/api/v1/dashboard/timeseries/?metric=abha_created&interval=day").json()
    assert days == [{"period": today, "value": 6}]
    months = client.get("/api/v1/dashboard/timeseries/?metric=abha_created&interval=month&district_lgd=443").json()
    assert months == [{"period": timezone.localdate().replace(day=1).isoformat(), "value": 4}]
    bad = client.get("/api/v1/dashboard/timeseries/?metric=nonsense&from=2026-02-01&to=2026-01-01")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"metric"}
    reversed_range = client.get("/api/v1/dashboard/timeseries/?metric=abha_created&from=2026-02-01&to=2026-01-01")
    assert set(reversed_range.json()["error"]["fields"]) == {"from"}


def test_dashboard_filters_by_district_and_microsite(client, data):
    client.force_login(StateOfficialFactory())
    rows = list(
        csv.DictReader(io.StringIO(client.get("/dashboard/?district=438&format=csv").content.decode("utf-8-sig")))
    )
    assert [(row["district"], row["abha_accounts"]) for row in rows] == [("Ahmadabad", "2")]
    page = client.get(f"/dashboard/?microsite={data['bhavnagar'].uuid}")
    assert page.status_code == 200
    assert page.context["summary"]["abha_accounts"] == 4


def test_dashboard_filters_are_typed_day_first_and_name_their_empty_choice(client, data):
    # A browser's date picker shows its own locale's order (mm/dd/yyyy on many): the dates are typed DD-MM-YYYY.
    client.force_login(StateOfficialFactory())
    today = timezone.localdate()
    page = client.get(f"/dashboard/?date_from=01-{today:%m-%Y}&date_to={today:%d/%m/%Y}&interval=day")
    text = page.content.decode()
    assert page.context["form"].is_valid(), page.context["form"].errors
    assert 'type="date"' not in text and 'placeholder="DD-MM-YYYY"' in text
    assert f'value="01-{today:%m-%Y}"' in text
    assert "All districts" in text and "All microsites" in text and "---------" not in text
    # Coverage: one decimal (69.4%), four only while it is below 1 % (Bhavnagar's 0.0001 % must not read 0.0 %).
    assert "0.0001%" in text
    percent = get_template("microsites/_percent.html")
    assert [percent.render({"value": value}) for value in (69.3643, 100, 0.00014)] == ["69.4%", "100.0%", "0.0001%"]


def test_dashboard_trend_and_leaderboard_csv(client, data):
    client.force_login(StateOfficialFactory())
    download = client.get("/dashboard/?format=csv&table=leaderboard")
    assert download.content.startswith("\ufeff".encode())  # spreadsheet programs then read it as UTF-8
    assert download["Content-Disposition"] == 'attachment; filename="microsite-leaderboard.csv"'
    trend = list(
        csv.reader(
            io.StringIO(client.get("/dashboard/?format=csv&table=trend&interval=day").content.decode("utf-8-sig"))
        )
    )
    assert trend == [["period", "abha_created"], [timezone.localdate().isoformat(), "6"]]
    board = list(
        csv.DictReader(io.StringIO(client.get("/dashboard/?format=csv&table=leaderboard").content.decode("utf-8-sig")))
    )
    assert {row["microsite"] for row in board} == {"Bhavnagar", "Ahmedabad"}


def test_leaderboard_marks_the_first_to_reach_a_shared_target_in_the_page_api_and_csv(client, api_as, data):
    """ "First to link 2 lakh records": both microsites race for the same target; the one that reached it first
    is marked, on the dashboard, in the API's JSON and in both CSVs."""
    due = datetime.date(2025, 9, 1)
    for microsite, day in [(data["bhavnagar"], 20), (data["ahmedabad"], 3)]:
        Milestone.objects.create(
            microsite=microsite,
            metric=Metric.RECORDS_LINKED,
            target=200000,
            due_date=due,
            achieved_at=datetime.datetime(2025, 5, day, 6, tzinfo=datetime.UTC),
        )
    official = StateOfficialFactory()
    board = {row["name"]: row for row in api_as(official).get("/api/v1/microsites/leaderboard/").json()}
    assert board["Ahmedabad"]["firsts"] == [
        {"metric": "records_linked", "target": 200000, "achieved_at": "2025-05-03T11:30:00+05:30"}
    ]
    assert board["Bhavnagar"]["firsts"] == []
    api_csv = api_as(official).get("/api/v1/microsites/leaderboard/?format=csv").content.decode("utf-8-sig")
    assert {row["name"]: row["firsts"] for row in csv.DictReader(io.StringIO(api_csv))} == {
        "Bhavnagar": "",
        "Ahmedabad": "records_linked 200000 2025-05-03",
    }
    client.force_login(official)
    page_csv = client.get("/dashboard/?format=csv&table=leaderboard").content.decode("utf-8-sig")
    assert {row["microsite"]: row["firsts"] for row in csv.DictReader(io.StringIO(page_csv))} == {
        "Bhavnagar": "",
        "Ahmedabad": "records_linked 200000 2025-05-03",
    }
    page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    assert "First to reach 2,00,000 Health records linked" in page.content.decode()


def test_dashboard_rejects_bad_filters_with_messages(client, data):
    officer = DistrictOfficerFactory()
    client.force_login(officer)
    page = client.get("/dashboard/?district=438&date_from=2026-02-01&date_to=2026-01-01")
    assert page.status_code == 400
    errors = page.context["form"].errors
    assert set(errors) == {"district", "date_to"}  # another district is not a choice for this officer
    assert page.context["summary"]["abha_accounts"] == 4  # the officer's own district, unfiltered


def _csv(response):
    """The rows of a CSV download, after checking it is one (UTF-8 with a byte order mark, as an attachment)."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_api_tables_download_as_csv_with_the_json_columns(api_as, data):
    client = api_as(StateOfficialFactory())
    Milestone.objects.create(
        microsite=data["bhavnagar"], metric=Metric.FACILITIES_VERIFIED, target=2, due_date=datetime.date(2025, 6, 1)
    )
    cases = [
        ("/api/v1/dashboard/districts/", "abha-coverage-by-district.csv"),
        ("/api/v1/dashboard/timeseries/?metric=abha_created&interval=month", "abha_created-by-month.csv"),
        ("/api/v1/microsites/", "microsites.csv"),
        ("/api/v1/microsites/leaderboard/", "microsite-leaderboard.csv"),
        (f"/api/v1/microsites/{data['bhavnagar'].uuid}/", "bhavnagar-milestones.csv"),
    ]
    for url, filename in cases:
        as_json = client.get(url).json()
        response = client.get(url + ("&" if "?" in url else "?") + "format=csv")
        rows = _csv(response)
        assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
        expected = as_json
        if isinstance(as_json, dict):  # a page of microsites, or a microsite whose table is its milestones
            expected = as_json["results"] if "results" in as_json else as_json["milestones"]
        assert len(rows) == len(expected), url
        assert list(rows[0]) == list(expected[0]), url  # the same columns, in the same order
        assert rows[0] == {key: _as_cell(value) for key, value in expected[0].items()}, url
    districts = _csv(client.get("/api/v1/dashboard/districts/?format=csv"))
    assert {row["name"]: row["abha_accounts"] for row in districts}["Bhavnagar"] == "4"
    listing = _csv(client.get("/api/v1/microsites/?format=csv"))
    assert [row["districts"] for row in listing] == ["438", "443"]  # all rows, not one page


def _as_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return str(value)


def test_api_csv_keeps_errors_in_the_json_error_shape(api_as, data):
    officer = api_as(DistrictOfficerFactory())
    denied = officer.get("/api/v1/dashboard/districts/?district_lgd=438&format=csv")
    assert denied.status_code == 403
    assert denied["Content-Type"] == "application/json"
    assert denied.json()["error"]["code"]
    unknown = officer.get("/api/v1/dashboard/districts/?format=xml")
    assert unknown.status_code == 400 and set(unknown.json()["error"]["fields"]) == {"format"}
    empty = api_as(StateOfficialFactory()).get("/api/v1/dashboard/timeseries/?metric=scan_tokens&format=csv")
    assert empty.content.decode("utf-8-sig").splitlines() == ["period,value"]  # no rows: still the header


def test_microsite_page_links_its_milestones_csv(client, data):
    Milestone.objects.create(
        microsite=data["bhavnagar"], metric=Metric.SCAN_TOKENS, target=10, due_date=datetime.date(2025, 6, 1)
    )
    client.force_login(StateOfficialFactory())
    page = client.get(f"/microsites/{data['bhavnagar'].uuid}/").content.decode()
    link = f"/api/v1/microsites/{data['bhavnagar'].uuid}/?format=csv"
    assert link in page
    rows = _csv(client.get(link))  # the session signs the API request in too
    assert [(row["metric"], row["value"], row["target"]) for row in rows] == [("scan_tokens", "0", "10")]


BIG_TABLES = (
    "abha_abhaaccount",
    "facilities_facility",
    "facilities_professional",
    "scanshare_scantoken",
    "records_healthrecord",
    "records_carecontext",
)


def _token_lookup(sql: str) -> bool:
    """The API token's own look-up: a query FROM the token table (by its unique key), however it is written."""
    return sql.split(" FROM ", 1)[-1].startswith('"authtoken_token"')


def test_dashboard_summary_and_districts_read_only_the_counters(api_as, data):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(StateOfficialFactory())
    client.get("/api/v1/dashboard/summary/")  # sign-in, throttle and session queries settle first
    for url in ("/api/v1/dashboard/summary/", "/api/v1/dashboard/districts/?district_lgd=443"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        # The API token's own look-up joins the caller's ABHA account by user (one row by a unique key, see
        # abha.api.authentication); every other query must stay off the big tables.
        touched = [
            q["sql"]
            for q in queries.captured_queries
            if any(t in q["sql"] for t in BIG_TABLES) and not _token_lookup(q["sql"])
        ]
        assert touched == [], url


def _with_every_metric(microsite):
    for metric in Metric.values:
        Milestone.objects.create(microsite=microsite, metric=metric, target=5, due_date=datetime.date(2025, 6, 1))
    return microsite


def test_leaderboard_queries_do_not_grow_with_the_number_of_microsites(api_as, data):
    """One set of grouped queries for all microsites (their areas, the facility table grouped by district and
    pincode, the running totals, the latest token days, the DHIS months, the milestone races), whatever their
    number."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for microsite in data.values():
        _with_every_metric(microsite)
    data["bhavnagar"].pincodes = ["380001"]
    data["bhavnagar"].save()
    data["bhavnagar"].included_facilities.add(FacilityFactory(district_id=459, pincode="395001"))
    data["ahmedabad"].excluded_facilities.add(FacilityFactory(district_id=AHMADABAD, pincode="380009"))
    client = api_as(StateOfficialFactory())
    client.get("/api/v1/microsites/leaderboard/")

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/microsites/leaderboard/")
            assert response.status_code == 200
        return len(queries.captured_queries), len(response.json())

    two, rows = count()
    assert rows == 2
    for index, district in enumerate([459, 457, 443, 438, 439]):
        microsite = _with_every_metric(MicrositeFactory(name=f"Microsite {index}", districts=[district, 443]))
        microsite.pincodes = ["380009", f"3950{index:02d}"]
        microsite.save()
        microsite.included_facilities.add(FacilityFactory(district_id=457, pincode="360001"))
        microsite.excluded_facilities.add(FacilityFactory())
    assert count() == (two, 7)
    assert two <= 20
