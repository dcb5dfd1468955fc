"""Dashboard numbers equal direct counts of the source tables after a mixed workload run through
the real services (enrollments, deactivation, reactivation, deletion, registrations, verification,
rejection, suspension, closure, records linked by a job whose tasks run twice), including a failed
attempt that must leave no count."""

import pytest

from abha import services as abha_services
from abha.enums import AccountStatus, OtpPurpose
from abha.models import AbhaAccount
from abha.tests.conftest import enrol_through_abdm
from core import counters
from core.enums import FACILITY_STATUS_METRICS, CountMetric, Role
from core.exceptions import DomainError
from core.models import District
from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory, UserFactory
from facilities import services as facility_services
from facilities.enums import FacilityStatus
from facilities.models import Facility
from facilities.tests.factories import FacilityFactory

pytestmark = pytest.mark.django_db


def _last_otp(outbox, mobile):
    text = [m for m in outbox if m["to"] == mobile][-1]["text"]
    return next(word for word in text.split() if word.isdigit() and len(word) == 6)


@pytest.fixture
def enrol(abdm_sandbox):
    """Enroll through the real services and ABDM (the sandbox; the resident's Aadhaar names the district)."""

    def run(*, mobile, district_lgd, **assisted):
        return enrol_through_abdm(abdm_sandbox, mobile=mobile, districtCode=str(district_lgd), **assisted)

    return run


@pytest.fixture
def confirm_otp(sms_outbox, django_capture_on_commit_callbacks):
    def run(account, purpose):
        account.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            txn = abha_services.account_otp_start(account=account, actor=account.user, purpose=purpose)
        otp = _last_otp(sms_outbox, account.mobile)
        return abha_services.account_confirm(
            account=account, actor=account.user, txn_id=txn.uuid, otp=otp, purpose=purpose
        )

    return run


def on_hfr(abdm_sandbox, name, district_lgd=443):
    """The HFR ID the sandbox's HFR gives a new, approved facility of that name in that district of Gujarat."""
    district = District.objects.get(lgd_code=district_lgd)
    body = {
        "facilityName": name,
        "ownershipCode": "P",
        "stateLGDCode": str(district.state_id),
        "stateName": district.state.name,
        "districtLGDCode": str(district_lgd),
        "districtName": district.name,
    }
    response = abdm_sandbox.post("hfr/facilities", body)
    assert response.status_code == 201, response.text
    return response.json()["facilities"][0]["facilityId"]


def _direct_counts():
    return {
        CountMetric.ABHA_CREATED: AbhaAccount.objects.count(),
        CountMetric.ABHA_ACTIVE: AbhaAccount.objects.filter(status=AccountStatus.ACTIVE).count(),
        CountMetric.FACILITIES_REGISTERED: Facility.objects.filter(
            status__in=[FacilityStatus.SUBMITTED, FacilityStatus.VERIFIED, FacilityStatus.SUSPENDED]
        ).count(),
        **{
            FACILITY_STATUS_METRICS[status]: Facility.objects.filter(status=status).count()
            for status in FacilityStatus.values
        },
    }


def _counted():
    return {metric: counters.total(metric) for metric in _direct_counts()}


def test_counters_equal_direct_counts_after_a_mixed_workload(enrol, confirm_otp, api_as, abdm_sandbox):
    accounts = [enrol(mobile=None, district_lgd=443 if i % 2 else 438) for i in range(6)]
    confirm_otp(accounts[0], OtpPurpose.DEACTIVATE)
    confirm_otp(accounts[1], OtpPurpose.DEACTIVATE)
    confirm_otp(accounts[1], OtpPurpose.REACTIVATE)
    confirm_otp(accounts[2], OtpPurpose.DELETE)
    confirm_otp(accounts[0], OtpPurpose.DELETE)  # deleting a deactivated account changes no active count

    officer, state = DistrictOfficerFactory(), StateOfficialFactory()
    names = [f"Counted Clinic {i}" for i in range(5)]  # each on HFR first: submission checks it there
    facilities = [
        FacilityFactory(status=FacilityStatus.DRAFT, name=name, facility_id=on_hfr(abdm_sandbox, name))
        for name in names
    ]
    counters.rebuild(fix=True)  # the factory bypasses facility_create: count these drafts once
    manager = facilities[0].members.model  # User
    for facility in facilities:
        owner = manager.objects.create(username=f"owner-{facility.pk}")
        facility.memberships.create(user=owner, role="admin")
        facility_services.facility_submit(actor=owner, facility=facility, confirm_not_duplicate=True)
    facility_services.facility_verify(actor=officer, facility=facilities[0], decision="approve")
    facility_services.facility_verify(actor=officer, facility=facilities[1], decision="approve")
    facility_services.facility_verify(actor=state, facility=facilities[2], decision="reject", reason="Wrong address")
    with pytest.raises(DomainError):  # a failed decision counts nothing
        facility_services.facility_verify(actor=officer, facility=facilities[3], decision="reject", reason="")
    facility_services.facility_change_status(actor=officer, facility=facilities[1], action="suspend", reason="Audit")
    facility_services.facility_change_status(actor=officer, facility=facilities[0], action="close", reason="Moved")
    # A draft registered through the service, then placed in a district, counts as a draft there.
    registrant = UserFactory(role=Role.FACILITY_STAFF)
    draft = facility_services.facility_create(actor=registrant, data={"name": "Kumbharwada Clinic"})
    facility_services.facility_update(
        actor=registrant, facility=draft, data={"district": District.objects.get(lgd_code=438)}
    )

    assert _counted() == _direct_counts()
    assert counters.rebuild() == []
    summary = api_as(state).get("/api/v1/dashboard/summary/").json()
    assert summary["facilities_by_status"] == {
        status: Facility.objects.filter(status=status).count() for status in FacilityStatus.values
    }
    assert summary["facilities_by_status"]["draft"] == 1  # the new one: the factory's drafts were all submitted
    in_ahmedabad = api_as(state).get("/api/v1/dashboard/summary/?district_lgd=438").json()
    assert in_ahmedabad["facilities_by_status"]["draft"] == 1


def test_verified_professionals_are_counted_once_approved():
    from facilities.tests.factories import ProfessionalFactory

    officer = DistrictOfficerFactory()
    professional = ProfessionalFactory(status="submitted")
    facility_services.professional_verify(actor=officer, professional=professional, decision="approve")
    assert counters.total(CountMetric.PROFESSIONALS_VERIFIED) == 1
    assert counters.rebuild([CountMetric.PROFESSIONALS_VERIFIED]) == []
    from microsites.enums import Metric
    from microsites.selectors import metric_value
    from microsites.tests.factories import MicrositeFactory

    here = MicrositeFactory(districts=[professional.district_id])
    elsewhere = MicrositeFactory(districts=[459])
    assert metric_value(here, Metric.PROFESSIONALS_VERIFIED) == 1
    assert metric_value(elsewhere, Metric.PROFESSIONALS_VERIFIED) == 0


def test_linked_records_are_counted_once_per_record_not_per_version():
    import copy
    import datetime

    from abha.tests.factories import AbhaAccountFactory
    from facilities.tests.factories import MembershipFactory
    from microsites.enums import Metric
    from microsites.selectors import metric_value
    from microsites.tests.factories import MicrositeFactory
    from records import services as record_services
    from records.tests.factories import bundle_for

    bundle = bundle_for("Prescription")  # no ABHA on its Patient: filed for any
    staff = MembershipFactory().user
    facility = staff.memberships.get().facility
    patient = AbhaAccountFactory()
    common = {
        "actor": staff,
        "facility": facility,
        "patient": patient,
        "reference": "OPD-1",
        "display": "OPD visit",
        "date": datetime.date(2026, 1, 5),
        "hi_type": "Prescription",
    }
    record_services.record_add(bundle=bundle, **common)
    amended = copy.deepcopy(bundle)
    amended["entry"][0]["resource"]["title"] = "Prescription (corrected)"
    record_services.record_add(bundle=amended, **common)  # a new version of the same record
    assert counters.total(CountMetric.RECORDS_LINKED) == 1
    assert counters.rebuild([CountMetric.RECORDS_LINKED]) == []
    assert metric_value(MicrositeFactory(districts=[facility.district_id]), Metric.RECORDS_LINKED) == 1


def test_scan_share_tokens_appear_on_the_dashboard_summary(api_as):
    from abha.tests.factories import AbhaAccountFactory
    from facilities.tests.factories import CounterFactory
    from scanshare.services import token_issue

    counter = CounterFactory(facility=FacilityFactory(), code="OPD1")
    for patient in AbhaAccountFactory.create_batch(3):
        token_issue(account=patient, actor=patient.user, hip_id=counter.facility.facility_id, counter_code="OPD1")
    body = api_as(StateOfficialFactory()).get("/api/v1/dashboard/summary/").json()
    assert body["tokens_today"] == body["tokens_this_month"] == 3
    assert counters.rebuild([CountMetric.SCAN_TOKENS]) == []


def _linking_csv(rows):
    import csv
    import io

    from records.linking.files import REQUIRED_COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REQUIRED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in REQUIRED_COLUMNS})
    return out.getvalue().encode()


def test_records_linked_by_a_job_equal_a_direct_count_when_its_tasks_run_twice(
    api_as, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """A record-linking job through its real steps: the upload service, prepare, then work. Each task also
    runs a second time (as a redelivered Celery message does), one chunk is rolled back mid-way (a worker
    killed before its commit) and the same file is uploaded again: the dashboard's records linked stays
    equal to a direct count of the linked records, and so does the microsite's milestone metric."""
    import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction
    from django.utils import timezone

    from abha.tests.factories import AbhaAccountFactory
    from facilities.tests.factories import MembershipFactory
    from microsites.enums import Metric
    from microsites.selectors import metric_value
    from microsites.tests.factories import MicrositeFactory
    from records.enums import LinkingJobStatus
    from records.linking import processing
    from records.linking import services as linking_services
    from records.models import HealthRecord, LinkingChunk

    settings.LINKING_CHUNK_ROWS = 3
    queued = []
    monkeypatch.setattr("records.tasks.prepare_linking_job.delay", lambda job_id: queued.append(job_id))
    facility = FacilityFactory(name="Sir T General Hospital", beds=10)
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    patients = AbhaAccountFactory.create_batch(4)
    visit = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
    rows = [
        {
            "abha_number": patients[i % 4].abha_number,
            "care_context_reference": f"OPD-{i}",
            "care_context_display": "OPD visit",
            "visit_date": visit,
            "hi_type": "OPConsultation" if i % 2 else "Prescription",
        }
        for i in range(10)
    ]
    rows.append({**rows[0]})  # the same record twice in one file: linked once
    rows.append({"abha_number": "91-0000-0000-0000", "care_context_reference": "OPD-X", "visit_date": visit})
    microsite = MicrositeFactory(districts=[facility.district_id])

    def direct():
        return HealthRecord.objects.filter(patient__isnull=False, version=1).count()

    def dashboard():
        return api_as(StateOfficialFactory()).get("/api/v1/dashboard/summary/").json()["records_linked"]

    with django_capture_on_commit_callbacks(execute=True):  # the upload commits and enqueues its job
        job = linking_services.job_create(
            actor=staff, facility=facility, uploaded_file=SimpleUploadedFile("visits.csv", _linking_csv(rows))
        )
    assert queued == [job.pk]  # the task itself is run below, step by step, as a worker would
    processing.job_prepare(job_id=job.pk)
    assert processing.job_prepare(job_id=job.pk) is None  # the prepare task delivered twice
    chunks = list(LinkingChunk.objects.filter(job=job).order_by("index"))
    assert len(chunks) == 4

    # A worker killed mid-chunk: its transaction rolls back, with the records and their count.
    class Killed(Exception):
        pass

    job.refresh_from_db()
    with pytest.raises(Killed), transaction.atomic():
        processing.process_chunk(job, chunks[0])
        raise Killed
    assert direct() == dashboard() == 0

    processing.job_work(job_id=job.pk)
    processing.job_work(job_id=job.pk)  # the work task delivered again: nothing left to claim
    job.refresh_from_db()
    assert job.status == LinkingJobStatus.DONE
    assert job.linked == direct() == 10
    assert dashboard() == direct()

    # The same file uploaded again (a user's retry): its rows are duplicates, nothing is linked or counted twice.
    again = linking_services.job_create(
        actor=staff, facility=facility, uploaded_file=SimpleUploadedFile("visits.csv", _linking_csv(rows))
    )
    processing.job_prepare(job_id=again.pk)
    processing.job_work(job_id=again.pk)
    again.refresh_from_db()
    assert (again.status, again.linked) == (LinkingJobStatus.DONE, 0)
    assert dashboard() == direct() == 10
    assert metric_value(microsite, Metric.RECORDS_LINKED) == 10
    assert counters.rebuild([CountMetric.RECORDS_LINKED]) == []
    district = api_as(StateOfficialFactory()).get(f"/api/v1/dashboard/summary/?district_lgd={facility.district_id}")
    assert district.json()["records_linked"] == 10


def test_microsite_metrics_and_facility_totals_equal_direct_counts_after_a_mixed_workload(
    enrol, sms_outbox, django_capture_on_commit_callbacks
):
    """Records linked (and amended), Scan & Share tokens, self and assisted enrollments, verifications, a
    suspension and a draft moved to another district, all through the services: the running totals per facility
    equal direct counts of the source tables, and so does every milestone metric of microsites whose areas mix
    districts, pincodes, inclusions and exclusions, read for all of them at once (the leaderboard's path) or one
    at a time."""
    import copy
    import datetime

    from django.db.models import Q
    from django.utils import timezone

    from abha.tests.factories import AbhaAccountFactory
    from core.models import FacilityTotal
    from facilities.enums import RegistryStatus
    from facilities.models import Professional
    from facilities.tests.factories import CounterFactory, MembershipFactory, ProfessionalFactory
    from microsites.enums import Metric
    from microsites.selectors import (
        dhis_incentive,
        leaderboard,
        metric_value,
        microsite_facilities,
        microsite_metric_values,
    )
    from microsites.tests.factories import MicrositeFactory
    from records import services as record_services
    from records.models import HealthRecord
    from records.tests.factories import bundle_for
    from scanshare.models import ScanToken
    from scanshare.services import token_issue

    officer = DistrictOfficerFactory()
    hospital = FacilityFactory(district_id=443, pincode="364001", beds=12)
    suspended = FacilityFactory(district_id=443, pincode="364002")
    by_pincode = FacilityFactory(district_id=438, pincode="380009", facility_type="diagnostic_lab")
    included = FacilityFactory(district_id=438, pincode="380001")
    patients = AbhaAccountFactory.create_batch(3, district_id=443)
    counters.rebuild(fix=True)  # the factories bypass the services: count their rows once
    facility_services.facility_change_status(actor=officer, facility=suspended, action="suspend", reason="Audit")
    registrant = UserFactory(role=Role.FACILITY_STAFF)
    draft = facility_services.facility_create(actor=registrant, data={"name": "Kumbharwada Clinic"})
    facility_services.facility_update(
        actor=registrant, facility=draft, data={"district": District.objects.get(lgd_code=443)}
    )

    # ABHA numbers: self enrolled in each district, and assisted at a facility for people of either district.
    enrol(mobile=None, district_lgd=443)
    enrol(mobile=None, district_lgd=438)
    helper = MembershipFactory(facility=by_pincode, user__role=Role.FACILITY_STAFF).user
    for district in (443, 438, 459):
        enrol(mobile=None, district_lgd=district, actor=helper, facility=by_pincode)

    # Records linked at three facilities, one amended (a new version counts nothing).
    bundle = bundle_for("Prescription")  # no ABHA on its Patient: filed for any
    for facility, references in [(hospital, 3), (by_pincode, 2), (included, 1), (suspended, 1)]:
        staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
        for i in range(references):
            common = {
                "actor": staff,
                "facility": facility,
                "patient": patients[i % 3],
                "reference": f"OPD-{i}",
                "display": "OPD visit",
                "date": datetime.date(2026, 1, 5),
                "hi_type": "Prescription",
            }
            record_services.record_add(bundle=bundle, **common)
            if i == 0:
                amended = copy.deepcopy(bundle)
                amended["entry"][0]["resource"]["title"] = "Prescription (corrected)"
                record_services.record_add(bundle=amended, **common)

    # Scan & Share tokens at two counters.
    for facility in (hospital, included):
        counter = CounterFactory(facility=facility, code="OPD1")
        for patient in patients[: 2 if facility is hospital else 1]:
            token_issue(account=patient, actor=patient.user, hip_id=counter.facility.facility_id, counter_code="OPD1")

    professional = ProfessionalFactory(status="submitted", district_id=443)
    facility_services.professional_verify(actor=officer, professional=professional, decision="approve")

    assert counters.rebuild() == []  # district totals, daily rows and facility totals all equal the sources

    def facility_totals(metric):
        totals = {}
        for facility, value in FacilityTotal.objects.filter(metric=metric).values_list("facility_key", "value"):
            totals[facility] = totals.get(facility, 0) + value
        return {facility: value for facility, value in totals.items() if value}

    linked = HealthRecord.objects.filter(patient__isnull=False, version=1)
    assert facility_totals(CountMetric.RECORDS_LINKED) == {
        f.pk: linked.filter(facility=f).count() for f in Facility.objects.all() if linked.filter(facility=f).exists()
    }
    assert facility_totals(CountMetric.SCAN_TOKENS) == {hospital.pk: 2, included.pk: 1}
    assert facility_totals(CountMetric.ABHA_CREATED) == {
        by_pincode.pk: AbhaAccount.objects.filter(assisted_facility=by_pincode).count()
    }

    first = MicrositeFactory(name="Bhavnagar and Pincode 380009", districts=[443])
    first.pincodes = ["380009"]
    first.save()
    first.included_facilities.add(included)
    first.excluded_facilities.add(suspended)
    second = MicrositeFactory(name="Ahmedabad", districts=[438])
    second.excluded_facilities.add(included, hospital)  # hospital is not in its area: nothing to take away
    third = MicrositeFactory(name="Surat by inclusion", districts=[459])
    third.included_facilities.add(hospital, by_pincode)
    third.excluded_facilities.add(by_pincode)  # excluded wins over included
    microsites = [first, second, third]

    today = timezone.localdate()

    def direct(microsite, metric):
        facilities = microsite_facilities(microsite)
        districts = list(microsite.districts.values_list("pk", flat=True))
        return {
            Metric.FACILITIES_REGISTERED: facilities.filter(status__in=["submitted", "verified", "suspended"]).count(),
            Metric.FACILITIES_VERIFIED: facilities.filter(status=FacilityStatus.VERIFIED).count(),
            Metric.RECORDS_LINKED: linked.filter(facility__in=facilities).count(),
            Metric.SCAN_TOKENS: ScanToken.objects.filter(facility__in=facilities).count(),
            Metric.FACILITIES_LIVE_SCAN_SHARE: ScanToken.objects.filter(
                facility__in=facilities, day__gt=today - datetime.timedelta(days=30)
            )
            .values("facility")
            .distinct()
            .count(),
            Metric.ABHA_CREATED: AbhaAccount.objects.filter(
                Q(district_id__in=districts) | Q(assisted_facility__in=facilities)
            ).count(),
            Metric.PROFESSIONALS_VERIFIED: Professional.objects.filter(
                status=RegistryStatus.VERIFIED, district_id__in=districts
            ).count(),
            Metric.INCENTIVE_TRANSACTIONS: dhis_incentive(facilities).eligible,
        }[metric]

    expected = {m.pk: {metric: direct(m, metric) for metric in Metric.values} for m in microsites}
    values = microsite_metric_values(microsites, Metric.values)
    assert values == expected
    assert all(type(value) is int for by_metric in values.values() for value in by_metric.values())
    assert {m.pk: {metric: metric_value(m, metric) for metric in Metric.values} for m in microsites} == expected
    assert expected[first.pk][Metric.RECORDS_LINKED] == 3 + 2 + 1  # hospital, by pincode, included
    assert expected[first.pk][Metric.ABHA_CREATED] == 3 + 1 + 1 + 2  # of 443, and assisted at by_pincode
    assert expected[second.pk][Metric.RECORDS_LINKED] == 2
    assert expected[third.pk][Metric.SCAN_TOKENS] == 2
    board = {row.microsite.pk: row for row in leaderboard(microsites)}
    for microsite in microsites:
        assert board[microsite.pk].records_linked == expected[microsite.pk][Metric.RECORDS_LINKED]
        assert board[microsite.pk].facilities_verified == expected[microsite.pk][Metric.FACILITIES_VERIFIED]
