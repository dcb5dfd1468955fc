import pytest

from core.models import District, PopulationFigure, State
from core.selectors import coverage_ratio, population_for
from core.services import population_set
from core.tests.factories import StateOfficialFactory

pytestmark = pytest.mark.django_db


def test_all_states_and_gujarat_districts_are_loaded_by_lgd_code():
    assert State.objects.count() == 36
    assert State.objects.get(lgd_code=24).name == "Gujarat"
    assert District.objects.filter(state_id=24).count() == 33
    bhavnagar = District.objects.get(lgd_code=443)
    assert (bhavnagar.name, bhavnagar.name_gu, bhavnagar.name_hi) == ("Bhavnagar", "ભાવનગર", "भावनगर")


def test_census_2011_figures_sum_to_the_official_state_total():
    gujarat_districts = PopulationFigure.objects.filter(state_id=24, district__isnull=False, year=2011)
    assert gujarat_districts.count() == 26
    assert sum(gujarat_districts.values_list("population", flat=True)) == 60_439_692
    assert population_for(state_lgd=24, year=2011) == 60_439_692


def test_districts_formed_in_2013_have_no_denominator_and_no_ratio():
    morbi = District.objects.get(lgd_code=673)
    assert population_for(district=morbi, year=2025) is None
    assert coverage_ratio(1234, population_for(district=morbi, year=2025)) is None
    assert coverage_ratio(10, 0) is None


def test_newest_figure_at_or_before_the_year_is_used():
    official = StateOfficialFactory()
    bhavnagar = District.objects.get(lgd_code=443)
    population_set(
        actor=official,
        state=bhavnagar.state,
        district=bhavnagar,
        year=2025,
        population=3_300_000,
        source="State projection 2025",
    )
    assert population_for(district=bhavnagar, year=2026) == 3_300_000
    assert population_for(district=bhavnagar, year=2020) == 2_880_365
    assert coverage_ratio(1_650_000, population_for(district=bhavnagar, year=2025)) == 0.5


def test_population_set_replaces_the_figure_and_audits_it():
    official = StateOfficialFactory()
    morbi = District.objects.get(lgd_code=673)
    population_set(actor=official, state=morbi.state, district=morbi, year=2025, population=1_100_000, source="a")
    population_set(actor=official, state=morbi.state, district=morbi, year=2025, population=1_150_000, source="b")
    assert PopulationFigure.objects.get(district=morbi, year=2025).population == 1_150_000
    from core.models import AuditEvent

    assert list(AuditEvent.objects.filter(actor=official).values_list("action", flat=True).order_by("id")) == [
        "population.set",
        "population.update",
    ]


def test_database_refuses_a_zero_population():
    from django.db import IntegrityError

    bhavnagar = District.objects.get(lgd_code=443)
    with pytest.raises(IntegrityError):
        PopulationFigure.objects.create(state_id=24, district=bhavnagar, year=2030, population=0, source="x")


def test_state_official_edits_a_population_figure_in_the_admin(client):
    official = StateOfficialFactory()
    figure = PopulationFigure.objects.get(district_id=443, year=2011)
    client.force_login(official)
    response = client.post(
        f"/admin/core/populationfigure/{figure.pk}/change/", {"population": "2900000", "source": "Corrected"}
    )
    assert response.status_code == 302
    figure.refresh_from_db()
    assert (figure.year, figure.population, figure.source) == (2011, 2_900_000, "Corrected")
    assert PopulationFigure.objects.filter(district_id=443).count() == 1
