"""Dashboard numbers equal direct counts of the source tables after a mixed workload run through
the real services (enrollments, deactivation, reactivation, deletion, registrations, verification,
rejection, suspension, closure), including a failed attempt that must leave no count."""

import pytest

from abha import services as abha_services
from abha.enums import AccountStatus, OtpPurpose
from abha.models import CURRENT_CONSENT_VERSION, AbhaAccount
from core import counters
from core.enums import CountMetric
from core.exceptions import DomainError
from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory
from facilities import services as facility_services
from facilities.enums import FacilityStatus
from facilities.models import Facility
from facilities.tests.factories import FacilityFactory

pytestmark = pytest.mark.django_db
DETAILS = {
    "first_name": "Asha",
    "last_name": "Patel",
    "gender": "F",
    "year_of_birth": 1990,
    "state_lgd": 24,
    "address": "12 Station Road",
    "pincode": "364001",
}


def _last_otp(outbox, mobile):
    text = [m for m in outbox if m["to"] == mobile][-1]["text"]
    return next(word for word in text.split() if word.isdigit() and len(word) == 6)


@pytest.fixture
def enrol(sms_outbox, django_capture_on_commit_callbacks):
    """Enroll through the real services (OTP delivered on commit, as in production)."""

    def run(*, mobile, district_lgd):
        with django_capture_on_commit_callbacks(execute=True):
            txn = abha_services.enrolment_start(mobile=mobile, consent_version=CURRENT_CONSENT_VERSION)
        abha_services.otp_verify(txn_id=txn.uuid, otp=_last_otp(sms_outbox, mobile), purpose=OtpPurpose.ENROL)
        return abha_services.enrolment_complete(txn_id=txn.uuid, data={**DETAILS, "district_lgd": district_lgd})

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


def _direct_counts():
    return {
        CountMetric.ABHA_CREATED: AbhaAccount.objects.count(),
        CountMetric.ABHA_ACTIVE: AbhaAccount.objects.filter(status=AccountStatus.ACTIVE).count(),
        CountMetric.FACILITIES_REGISTERED: Facility.objects.filter(
            status__in=[FacilityStatus.SUBMITTED, FacilityStatus.VERIFIED, FacilityStatus.SUSPENDED]
        ).count(),
        CountMetric.FACILITIES_VERIFIED: Facility.objects.filter(status=FacilityStatus.VERIFIED).count(),
    }


def _counted():
    return {metric: counters.total(metric) for metric in _direct_counts()}


def test_counters_equal_direct_counts_after_a_mixed_workload(enrol, confirm_otp):
    accounts = [enrol(mobile=f"98765432{i:02d}", district_lgd=443 if i % 2 else 438) for i in range(6)]
    confirm_otp(accounts[0], OtpPurpose.DEACTIVATE)
    confirm_otp(accounts[1], OtpPurpose.DEACTIVATE)
    confirm_otp(accounts[1], OtpPurpose.REACTIVATE)
    confirm_otp(accounts[2], OtpPurpose.DELETE)
    confirm_otp(accounts[0], OtpPurpose.DELETE)  # deleting a deactivated account changes no active count

    officer, state = DistrictOfficerFactory(), StateOfficialFactory()
    facilities = [FacilityFactory(status=FacilityStatus.DRAFT, facility_id=None) for _ in range(5)]
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

    assert _counted() == _direct_counts()
    assert counters.rebuild() == []


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
    from records.tests.factories import load_bundle

    bundle = load_bundle("Prescription")
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
    from facilities.scanshare.services import token_issue
    from facilities.tests.factories import CounterFactory

    counter = CounterFactory(facility=FacilityFactory(), code="OPD1")
    for patient in AbhaAccountFactory.create_batch(3):
        token_issue(account=patient, actor=patient.user, hip_id=counter.facility.facility_id, counter_code="OPD1")
    body = api_as(StateOfficialFactory()).get("/api/v1/dashboard/summary/").json()
    assert body["tokens_today"] == body["tokens_this_month"] == 3
    assert counters.rebuild([CountMetric.SCAN_TOKENS]) == []
