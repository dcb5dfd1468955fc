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


def test_the_first_to_reach_a_target_other_microsites_share_is_marked_whatever_the_leaderboard_shows():
    first, second, alone = MicrositeFactory(name="First"), MicrositeFactory(name="Second"), MicrositeFactory()
    not_yet = MicrositeFactory(name="Not yet")
    due = datetime.date(2025, 9, 1)

    def milestone(microsite, target, day=None, metric=Metric.RECORDS_LINKED):
        achieved = datetime.datetime(2025, 5, day, tzinfo=datetime.UTC) if day else None
        Milestone.objects.create(microsite=microsite, metric=metric, target=target, due_date=due, achieved_at=achieved)

    milestone(second, 200000, day=9)
    milestone(first, 200000, day=2)
    milestone(not_yet, 200000)
    milestone(alone, 5, day=1)  # reached, but nobody else races for it
    milestone(first, 10, day=4, metric=Metric.FACILITIES_VERIFIED)  # a tie: the microsite created first wins
    milestone(second, 10, day=4, metric=Metric.FACILITIES_VERIFIED)
    rows = {row.microsite.name: row for row in leaderboard([first, second, alone, not_yet])}
    assert [(f.metric, f.target) for f in rows["First"].firsts] == [
        (Metric.RECORDS_LINKED, 200000),
        (Metric.FACILITIES_VERIFIED, 10),
    ]
    assert rows["Second"].firsts == rows["Not yet"].firsts == rows[alone.name].firsts == ()
    # A district's leaderboard without the winner marks nobody; with it, the same first.
    assert leaderboard([second, not_yet])[0].firsts == ()
    assert len(leaderboard([first])[0].firsts) == 2


def _counted(metric, facility, n, day):
    from core.enums import CountMetric

    counters.count_add(
        metric=getattr(CountMetric, metric),
        district_lgd=facility.district_id,
        facility_key=facility.pk,
        delta=n,
        day=day,
    )


def test_scan_share_metrics_count_tokens_and_facilities_live_in_the_last_30_days():
    today = timezone.localdate()
    microsite = MicrositeFactory(districts=[443])
    busy, lapsed, quiet = FacilityFactory(), FacilityFactory(), FacilityFactory()
    elsewhere = FacilityFactory(district_id=AHMADABAD, pincode="380001")
    _counted("SCAN_TOKENS", busy, 5, today)
    _counted("SCAN_TOKENS", busy, 2, today - datetime.timedelta(days=29))  # the 30th day back still counts
    _counted("SCAN_TOKENS", lapsed, 4, today - datetime.timedelta(days=30))  # one day too old to be "live"
    _counted("SCAN_TOKENS", elsewhere, 9, today)
    assert metric_value(microsite, Metric.SCAN_TOKENS) == 11
    assert metric_value(microsite, Metric.FACILITIES_LIVE_SCAN_SHARE) == 1
    microsite.excluded_facilities.add(busy)
    assert metric_value(microsite, Metric.FACILITIES_LIVE_SCAN_SHARE) == 0
    assert metric_value(microsite, Metric.SCAN_TOKENS) == 4
    assert quiet  # in the area, never issued a token: neither live nor counted


def test_dhis_incentive_counts_records_and_tokens_above_each_facilitys_monthly_base(settings):
    from facilities.enums import FacilityType
    from microsites.selectors import Incentive, dhis_incentive, microsite_facilities

    microsite = MicrositeFactory(districts=[443])
    hospital = FacilityFactory(facility_type=FacilityType.HOSPITAL, beds=12)  # base 12 x 50 = 600, ₹20 each
    lab = FacilityFactory(facility_type=FacilityType.DIAGNOSTIC_LAB, beds=0)  # base 500, ₹15 each
    clinic = FacilityFactory(facility_type=FacilityType.CLINIC, beds=2)  # under 10 beds: not eligible
    january, february = datetime.date(2026, 1, 3), datetime.date(2026, 2, 9)
    _counted("RECORDS_LINKED", hospital, 450, january)
    _counted("SCAN_TOKENS", hospital, 200, datetime.date(2026, 1, 28))  # 650 in January: 50 above the base
    _counted("RECORDS_LINKED", hospital, 100, february)  # under the base: nothing
    _counted("RECORDS_LINKED", lab, 520, january)  # 20 above
    _counted("RECORDS_LINKED", clinic, 10_000, january)
    facilities = microsite_facilities(microsite)
    assert dhis_incentive(facilities) == Incentive(transactions=1270, eligible=70, amount=50 * 20 + 20 * 15)
    assert metric_value(microsite, Metric.INCENTIVE_TRANSACTIONS) == 70
    assert dhis_incentive(facilities, since=february) == Incentive(transactions=100, eligible=0, amount=0)

    settings.DHIS_BASE_PER_BED, settings.DHIS_HOSPITAL_RATE = 10, 25  # base 120 a month: rates are settings
    assert dhis_incentive(facilities) == Incentive(
        transactions=1270, eligible=(650 - 120) + 0 + 20, amount=(650 - 120) * 25 + 20 * 15
    )
    settings.DHIS_BASE_PER_BED = 50
    settings.DHIS_MIN_BEDS = 2  # the clinic becomes eligible: base 100
    assert metric_value(microsite, Metric.INCENTIVE_TRANSACTIONS) == 50 + 20 + (10_000 - 100)
