import datetime

import pytest

from core.exceptions import DomainError, NotAllowed
from core.models import AuditEvent, District, State
from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory, UserFactory
from microsites.enums import Category, Metric
from microsites.models import Microsite, Milestone
from microsites.services import microsite_create, milestone_add, milestone_template_apply
from microsites.tests.factories import MicrositeFactory

pytestmark = pytest.mark.django_db
DUE = datetime.date(2025, 6, 1)


def test_state_official_creates_a_microsite_with_a_nine_month_default_deadline():
    official = StateOfficialFactory()
    microsite = microsite_create(
        actor=official,
        name="Vadodara",
        state=State.objects.get(pk=24),
        districts=District.objects.filter(pk=461),
        category=Category.B,
        start_date=datetime.date(2025, 1, 15),
    )
    assert microsite.deadline == datetime.date(2025, 10, 15)
    assert AuditEvent.objects.filter(action="microsite.create", target_id=str(microsite.uuid)).exists()


@pytest.mark.parametrize("who", ["district_officer", "citizen"])
def test_only_state_officials_create_microsites(who):
    actor = DistrictOfficerFactory() if who == "district_officer" else UserFactory()
    with pytest.raises(NotAllowed):
        microsite_create(
            actor=actor,
            name="X",
            state=State.objects.get(pk=24),
            districts=[],
            category=Category.B,
            start_date=datetime.date(2025, 1, 1),
        )
    assert not Microsite.objects.exists()


def test_district_officer_adds_milestones_only_in_their_districts():
    bhavnagar_site = MicrositeFactory(districts=[443])
    ahmedabad_site = MicrositeFactory(districts=[438])
    officer = DistrictOfficerFactory()  # Bhavnagar
    milestone_add(actor=officer, microsite=bhavnagar_site, metric=Metric.ABHA_CREATED, target=100, due_date=DUE)
    with pytest.raises(NotAllowed):
        milestone_add(actor=officer, microsite=ahmedabad_site, metric=Metric.ABHA_CREATED, target=100, due_date=DUE)
    with pytest.raises(NotAllowed):
        milestone_add(actor=UserFactory(), microsite=bhavnagar_site, metric=Metric.ABHA_CREATED, target=1, due_date=DUE)
    assert Milestone.objects.count() == 1


def test_bad_milestones_get_field_errors_and_save_nothing():
    official = StateOfficialFactory()
    microsite = MicrositeFactory()
    with pytest.raises(DomainError) as error:
        milestone_add(actor=official, microsite=microsite, metric=Metric.ABHA_CREATED, target=0, due_date=DUE)
    assert "target" in error.value.fields
    with pytest.raises(DomainError) as error:
        milestone_add(
            actor=official,
            microsite=microsite,
            metric=Metric.ABHA_CREATED,
            target=5,
            due_date=datetime.date(2024, 1, 1),
        )
    assert "due_date" in error.value.fields
    milestone_add(actor=official, microsite=microsite, metric=Metric.ABHA_CREATED, target=5, due_date=DUE)
    with pytest.raises(DomainError) as error:
        milestone_add(actor=official, microsite=microsite, metric=Metric.ABHA_CREATED, target=9, due_date=DUE)
    assert error.value.code == "duplicate"
    assert Milestone.objects.count() == 1


def test_template_applies_to_many_microsites_and_skips_existing_ones():
    official = StateOfficialFactory()
    sites = MicrositeFactory.create_batch(3)
    assert (
        milestone_template_apply(
            actor=official, microsites=sites, metric=Metric.FACILITIES_VERIFIED, target=500, due_after_months=6
        )
        == 3
    )
    assert (
        milestone_template_apply(
            actor=official, microsites=sites, metric=Metric.FACILITIES_VERIFIED, target=500, due_after_months=6
        )
        == 0
    )
    assert set(Milestone.objects.values_list("due_date", flat=True)) == {datetime.date(2025, 7, 1)}
