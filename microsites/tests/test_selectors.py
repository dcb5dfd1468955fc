import datetime

import pytest
from django.utils import timezone

from abha.enums import AccountStatus
from abha.tests.factories import AbhaAccountFactory
from core import counters
from facilities.enums import FacilityStatus
from facilities.tests.factories import FacilityFactory
from microsites.enums import Metric, MilestoneStatus
from microsites.models import Milestone
from microsites.selectors import leaderboard, metric_value, microsite_facilities, milestone_progress
from microsites.services import milestones_refresh
from microsites.tests.factories import MicrositeFactory

pytestmark = pytest.mark.django_db
AHMADABAD = 438


def test_facilities_by_area_plus_inclusions_minus_exclusions():
    microsite = MicrositeFactory(districts=[443])
    inside = FacilityFactory()
    excluded = FacilityFactory()
    outside = FacilityFactory(district_id=AHMADABAD, pincode="380001")
    by_pincode = FacilityFactory(district_id=AHMADABAD, pincode="380009")
    included = FacilityFactory(district_id=AHMADABAD, pincode="380015")
    microsite.pincodes = ["380009"]
    microsite.save()
    microsite.included_facilities.add(included)
    microsite.excluded_facilities.add(excluded)
    assert set(microsite_facilities(microsite)) == {inside, by_pincode, included}
    assert outside not in microsite_facilities(microsite)


def test_metrics_count_live_data_and_skip_inactive_rows():
    microsite = MicrositeFactory(districts=[443])
    FacilityFactory(status=FacilityStatus.VERIFIED)
    FacilityFactory(status=FacilityStatus.SUBMITTED)
    FacilityFactory(status=FacilityStatus.DRAFT, facility_id=None)
    FacilityFactory(status=FacilityStatus.VERIFIED, district_id=AHMADABAD)
    AbhaAccountFactory.create_batch(3)
    AbhaAccountFactory(status=AccountStatus.DEACTIVATED)
    AbhaAccountFactory(district_id=AHMADABAD)
    assisted_here = FacilityFactory(district_id=AHMADABAD, pincode="380001")
    microsite.included_facilities.add(assisted_here)
    AbhaAccountFactory(district_id=AHMADABAD, assisted_facility=assisted_here)  # lives elsewhere, enrolled here
    counters.rebuild(fix=True)
    assert metric_value(microsite, Metric.FACILITIES_REGISTERED) == 3
    assert metric_value(microsite, Metric.FACILITIES_VERIFIED) == 2
    # Created ABHAs count once made, even if deactivated later.
    assert metric_value(microsite, Metric.ABHA_CREATED) == 5


@pytest.mark.parametrize(
    "value, today, achieved_at, expected",
    [
        (10, datetime.date(2025, 3, 1), None, MilestoneStatus.ACHIEVED),
        (9, datetime.date(2025, 9, 2), None, MilestoneStatus.MISSED),
        (1, datetime.date(2025, 5, 1), None, MilestoneStatus.AT_RISK),  # 1 in 4 months -> ~2 by September
        (6, datetime.date(2025, 5, 1), None, MilestoneStatus.ON_TRACK),  # 6 in 4 months -> ~12 by September
        (2, datetime.date(2025, 9, 2), datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC), MilestoneStatus.ACHIEVED),
    ],
)
def test_milestone_status(value, today, achieved_at, expected):
    microsite = MicrositeFactory()
    milestone = Milestone(
        microsite=microsite,
        metric=Metric.FACILITIES_VERIFIED,
        target=10,
        due_date=datetime.date(2025, 9, 1),
        achieved_at=achieved_at,
    )
    progress = milestone_progress(milestone, value, today)
    assert progress.status == expected
    assert progress.percent == min(100, value * 10)


def test_refresh_stamps_the_first_achievement_date_once():
    microsite = MicrositeFactory()
    milestone = Milestone.objects.create(
        microsite=microsite, metric=Metric.FACILITIES_VERIFIED, target=2, due_date=datetime.date(2025, 9, 1)
    )
    FacilityFactory()
    assert milestones_refresh(microsite=microsite) == 0
    FacilityFactory()
    first = timezone.now() - datetime.timedelta(days=3)
    assert milestones_refresh(microsite=microsite, now=first) == 1
    assert milestones_refresh(microsite=microsite) == 0  # a retried run keeps the first date
    milestone.refresh_from_db()
    assert milestone.achieved_at == first


def test_leaderboard_ranks_by_share_achieved_and_marks_the_first_to_complete():
    early, late, behind = MicrositeFactory(name="Early"), MicrositeFactory(name="Late"), MicrositeFactory(name="Behind")
    due = datetime.date(2025, 9, 1)
    for microsite, stamp in [
        (early, datetime.datetime(2025, 4, 1, tzinfo=datetime.UTC)),
        (late, datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)),
    ]:
        Milestone.objects.create(
            microsite=microsite, metric=Metric.FACILITIES_VERIFIED, target=1, due_date=due, achieved_at=stamp
        )
    Milestone.objects.create(microsite=behind, metric=Metric.FACILITIES_VERIFIED, target=50, due_date=due)
    rows = leaderboard([behind, late, early])
    assert [row.microsite.name for row in rows][-1] == "Behind"
    assert {row.microsite.name: row.first_to_complete for row in rows} == {
        "Early": True,
        "Late": False,
        "Behind": False,
    }
    assert rows[0].rank == 1 and rows[0].share == 1.0
