"""The access matrix: every API endpoint and every page, called as each role on objects that belong to
someone else, with the expected allow or deny per cell.

Roles (`ROLES`): anonymous; citizens A and B; X's admin and X's plain staff; Y's admin (another district);
the district officer of X's district and of Y's; a state official; a doctor holding A's consent (and an
emergency access) and a doctor without. The objects are A's ABHA, records, consents and links, and
facility X's drafts, counter, queue token, team, professional, linking job, plus officer_x's bulk upload
and the district's microsite.

The rows are the table below (`ROWS`); `test_every_route_has_a_row` walks the URL resolver and fails,
naming them, for routes without a row. One world is built per module (rolled back at the end); each cell
runs in a savepoint that is rolled back, so an allowed write never changes what the next cell sees.

A cell passes when
- public (sign-in and sessions are the flow's own business): any answer but 401, 403 or a 5xx;
- allowed: the answer is 2xx, or a redirect that is not to a sign-in page; a write (POST, PATCH, DELETE)
  also leaves at least one audit row (so a form that re-rendered with errors does not pass as allowed);
- denied: the answer is 401, 403 or 404, or a redirect to a sign-in page; and nothing was audited
  (a denied request changes nothing).
Every answer (allowed or not) is also searched for canaries: citizen A's identity, A's health record,
facility X's unsubmitted draft, someone else's unverified professional and the district's microsite may
appear only in answers to the roles that may see them (`SEES`, widened per row where a flow shows them
by design).
"""

import datetime as dt
import importlib
import json
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from abha.models import CURRENT_CONSENT_VERSION
from abha.tests.factories import AbhaAccountFactory, give_abdm_session
from core.enums import Role
from core.models import AuditEvent, District
from core.otp import otp_digest
from core.tests.factories import AHMADABAD, BHAVNAGAR, DistrictOfficerFactory, StateOfficialFactory, UserFactory
from facilities.enums import FacilityStatus, MembershipRole
from facilities.models import Affiliation, BulkUpload
from facilities.tests.conftest import DRAFT_DATA
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory, ProfessionalFactory
from microsites.tests.factories import MicrositeFactory
from records import services as record_services
from records.enums import HiType, LinkingFileFormat, LinkMatch, LinkStatus
from records.linking.files import REQUIRED_COLUMNS
from records.models import (
    HiuArtefact,
    HiuConsentRequest,
    HiuRecord,
    HiuTransfer,
    LinkingJob,
    LinkingReview,
    LinkingRowError,
    LinkRequest,
)
from records.tests.factories import bundle_for
from scanshare import services as scan_services

ROLES = (
    "anon",
    "citizen_a",
    "citizen_b",
    "staff_x",
    "teammate_x",
    "staff_y",
    "officer_x",
    "officer_y",
    "state",
    "doctor_consent",
    "doctor_no_consent",
)
GROUPS = {
    "*": set(ROLES),
    "signed_in": set(ROLES) - {"anon"},
    "citizens": {"citizen_a", "citizen_b"},
    "officials": {"officer_x", "officer_y", "state"},
    "doctors": {"doctor_consent", "doctor_no_consent"},
    # People with a facility membership (X's and Y's admins, the two doctors).
    "members": {"staff_x", "teammate_x", "staff_y", "doctor_consent", "doctor_no_consent"},
    # staff_x is X's admin (and of X's draft, submitted and suspended siblings); teammate_x is X's plain staff.
    "x_staff": {"staff_x", "teammate_x"},
    "x_viewers": {"staff_x", "teammate_x", "officer_x", "state"},
    "x_admin_viewers": {"staff_x", "officer_x", "state"},
    "x_officers": {"officer_x", "state"},
}

# Who may see each canary anywhere in an answer (rows may widen this for a flow that shows it by design).
SEES = {
    "identity_a": {"citizen_a", "staff_x", "teammate_x", "officer_x", "state", "doctor_consent"},
    "health_a": {"citizen_a", "staff_x", "teammate_x", "doctor_consent"},
    "draft_x": {"staff_x", "officer_x", "state"},
    "microsite_x": {"officer_x", "state"},
    # Someone else's submitted (not yet verified) professional registration, affiliated to X.
    "professional_x": {"staff_x", "officer_x", "state"},
}
SIGN_IN_PAGES = ("/accounts/login/", "/abha/signin/", "/admin/login/")
PIN = "123456"


def roles(spec: str) -> frozenset:
    """ "staff_x officials" -> the named roles and groups."""
    found = set()
    for word in spec.split():
        found |= GROUPS.get(word, {word})
    unknown = found - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return frozenset(found)


@dataclass(frozen=True)
class Row:
    name: str  # URL name as reverse() takes it
    allow: str  # roles (and groups) allowed; everyone else is denied
    method: str = "get"
    kwargs: object = None  # world -> reverse() kwargs
    query: object = ""  # world -> query string (without "?")
    data: object = None  # world -> body (JSON for the API, a form for pages)
    write: bool | None = None  # allowed calls must audit; None: every non-GET
    public: bool = False  # no sign-in needed: any answer but 401, 403 and 5xx counts as allowed
    multipart: bool = False  # an API upload: the body goes as multipart/form-data, not JSON
    deny_as: tuple = ()  # more statuses that count as a denial in this row (say why)
    deny_to: tuple = ()  # more redirect targets that count as a denial (the admin's "does not exist")
    sees: dict = field(default_factory=dict)  # canary -> extra roles that may see it here
    why: str = ""
    label: str = ""  # tells two rows of one route and method apart

    @property
    def key(self):
        return f"{self.method.upper()} {self.name}{' ' + self.label if self.label else ''}"

    @property
    def is_api(self):
        return self.name.startswith("api-")

    @property
    def writes(self):
        return self.method != "get" if self.write is None else self.write


# --- The world: citizen A's account and records, facility X's people and objects, and outsiders ---------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, abdm_sandbox):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world(abdm_sandbox)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _build_world(abdm_sandbox):
    if not District.objects.exists():  # a transactional test before this module flushed the reference data
        importlib.import_module("core.migrations.0002_geography_and_population").load(django_apps, None)
    bhavnagar = District.objects.get(lgd_code=BHAVNAGAR)
    ahmadabad = District.objects.get(lgd_code=AHMADABAD)
    w = SimpleNamespace()

    def admin_of(facility, role=Role.FACILITY_ADMIN, user=None):
        kwargs = {"user": user} if user else {"user__role": role}
        return MembershipFactory(facility=facility, role=MembershipRole.ADMIN, **kwargs).user

    # Facility X (Bhavnagar, verified, a counter), its unsubmitted draft, a submitted and a suspended one.
    w.x = FacilityFactory(name="X General Hospital", district=bhavnagar)
    w.staff_x = admin_of(w.x)
    w.counter = CounterFactory(facility=w.x, code="OPD1")
    w.teammate = MembershipFactory(facility=w.x, role=MembershipRole.STAFF, user__role=Role.FACILITY_STAFF)
    w.teammate_x = w.teammate.user
    # The draft's HFR ID is on the sandbox's HFR under its name and district: submitting it checks them there.
    on_hfr = abdm_sandbox.post(
        "hfr/facilities",
        {"facilityName": "Canarydraft Nursing Home", "ownershipCode": "P", "stateLGDCode": "24",
         "stateName": "Gujarat", "districtLGDCode": str(BHAVNAGAR), "districtName": bhavnagar.name},
    )  # fmt: skip
    w.x_draft = FacilityFactory(
        name="Canarydraft Nursing Home",
        district=bhavnagar,
        status=FacilityStatus.DRAFT,
        facility_id=on_hfr.json()["facilities"][0]["facilityId"],
    )
    w.x_submitted = FacilityFactory(name="X Submitted Clinic", district=bhavnagar, status=FacilityStatus.SUBMITTED)
    w.x_suspended = FacilityFactory(name="X Suspended Clinic", district=bhavnagar, status=FacilityStatus.SUSPENDED)
    for facility in (w.x_draft, w.x_submitted, w.x_suspended):
        admin_of(facility, user=w.staff_x)
    # Facility Y in another district, with its own admin.
    w.y = FacilityFactory(name="Y Hospital", district=ahmadabad, pincode="382330")
    w.staff_y = admin_of(w.y)
    # Two doctors at two other Bhavnagar facilities; only the first holds citizen A's consent.
    w.c = FacilityFactory(name="C Clinic", district=bhavnagar)
    w.d = FacilityFactory(name="D Clinic", district=bhavnagar)
    w.doctor_consent = MembershipFactory(facility=w.c, role=MembershipRole.DOCTOR, user__role=Role.DOCTOR).user
    w.doctor_no_consent = MembershipFactory(facility=w.d, role=MembershipRole.DOCTOR, user__role=Role.DOCTOR).user
    w.officer_x = DistrictOfficerFactory(districts=[bhavnagar])
    w.officer_y = DistrictOfficerFactory(districts=[ahmadabad])
    w.state = StateOfficialFactory()

    # Citizen A (Bhavnagar) with a record at X; citizen B (Ahmadabad).
    w.a = AbhaAccountFactory(first_name="Asha", last_name="Canaryben", district=bhavnagar)
    w.b = AbhaAccountFactory(first_name="Bina", last_name="Shah", district=ahmadabad, mobile="9876500002")
    w.citizen_a, w.citizen_b = w.a.user, w.b.user
    for citizen in (w.a, w.b):  # ABHAs ABDM (the sandbox) knows, signed in there: their card is ABDM's
        give_abdm_session(citizen, abdm_sandbox)
    w.a_address = w.a.addresses.first().full
    w.record, _ = record_services.record_add(
        actor=w.staff_x,
        facility=w.x,
        patient=w.a,
        reference="CC-CANARY-1",
        display="Canarycare OPD visit",
        date=dt.date(2025, 2, 10),
        hi_type=HiType.PRESCRIPTION,
        bundle=bundle_for(HiType.PRESCRIPTION, key="canary-1"),
    )
    # A's lab report at X: not covered by the consent below (it grants prescriptions only).
    w.record_outside_consent, _ = record_services.record_add(
        actor=w.staff_x,
        facility=w.x,
        patient=w.a,
        reference="CC-CANARY-LAB",
        display="Canarycare lab visit",
        date=dt.date(2025, 2, 12),
        hi_type=HiType.DIAGNOSTIC_REPORT,
        bundle=bundle_for(HiType.DIAGNOSTIC_REPORT, key="canary-lab"),
    )
    # An older visit at X kept by demographics (A's), not yet linked: A may find and claim it.
    w.unlinked, _ = record_services.record_add(
        actor=w.staff_x,
        facility=w.x,
        patient=None,
        reference="CC-CANARY-OLD",
        display="Canarycare old visit",
        date=dt.date(2024, 5, 1),
        hi_type=HiType.PRESCRIPTION,
        bundle=bundle_for(HiType.PRESCRIPTION, key="canary-old"),
        demographics={"name": "Asha Canaryben", "mobile": w.a.mobile, "gender": "F", "year_of_birth": 1990},
    )

    # Consents: one granted (an artefact for doctor_consent), one pending; an emergency access.
    def consent_request(access_mode="VIEW"):
        return record_services.consent_request_create(
            actor=w.doctor_consent,
            patient_identifier=w.a_address,
            purpose="CAREMGT",
            hi_types=[HiType.PRESCRIPTION],
            date_from=dt.date(2025, 1, 1),
            date_to=dt.date(2025, 3, 31),
            data_erase_at=timezone.now() + dt.timedelta(days=30),
            access_mode=access_mode,
        )

    granted = consent_request("STORE")  # STORE: its doctor may also download a copy of a record
    _request, artefacts = record_services.consent_grant(actor=w.citizen_a, request_uuid=granted.uuid)
    w.artefact = artefacts[0]
    w.pending = consent_request()
    w.btg = record_services.btg_grant(
        actor=w.doctor_consent, patient_identifier=w.a_address, reason="Unconscious after a road accident"
    )
    # Through ABDM (records.hiu): doctor_consent's request, a granted STORE artefact with one received record.
    moment = timezone.now()
    w.hiu_request = HiuConsentRequest.objects.create(
        requester=w.doctor_consent, facility=w.c, patient_address=w.a_address, requester_name="Dr C",
        purpose="CAREMGT", hi_types=["Prescription"], date_from=moment - dt.timedelta(days=90), date_to=moment,
        data_erase_at=moment + dt.timedelta(days=30), init_request_id=uuid.uuid4(), consent_request_id=uuid.uuid4(),
        status="GRANTED",
    )  # fmt: skip
    w.hiu_artefact = HiuArtefact.objects.create(
        consent_request=w.hiu_request, artefact_id=uuid.uuid4(), fetched_at=moment, patient_address=w.a_address,
        hip_id=w.x.facility_id, hip_name=w.x.name, hi_types=["Prescription"], access_mode="STORE",
        date_from=w.hiu_request.date_from, date_to=moment, data_erase_at=w.hiu_request.data_erase_at,
    )  # fmt: skip
    hiu_transfer = HiuTransfer.objects.create(
        artefact=w.hiu_artefact, request_id=uuid.uuid4(), transaction_id=uuid.uuid4(), status="received",
        public_key="-", nonce="-",
    )  # fmt: skip
    w.hiu_record = HiuRecord.objects.create(
        transfer=hiu_transfer, artefact=w.hiu_artefact, care_context_reference="CC-1", hi_type="Prescription",
        bundle={"resourceType": "Bundle", "type": "document"}, summary={"title": "Canarycare prescription"},
    )  # fmt: skip

    # Linking: A's claim waiting for the OTP (known PIN), and a weak match waiting for X's review.
    w.link_otp = _link(w, LinkStatus.OTP_SENT)
    w.link_review = _link(w, LinkStatus.NEEDS_REVIEW)

    # Scan & Share: A's token at X's counter, waiting.
    w.token, _ = scan_services.token_issue(
        account=w.a, actor=w.citizen_a, hip_id=w.x.facility_id, counter_code=w.counter.code
    )

    # A professional (someone else's registration) in Bhavnagar who says they work at X.
    w.professional = ProfessionalFactory(district=bhavnagar, name="Dr Canarypro Mehta")
    Affiliation.objects.create(professional=w.professional, facility=w.x)

    # officer_x's bulk upload, with an error report.
    w.upload = BulkUpload.objects.create(uploaded_by=w.officer_x, original_name="phc.csv", file="bulk/phc.csv")
    w.upload.error_report.save("errors.csv", ContentFile(b"row,error\n2,bad pincode\n"), save=True)

    w.microsite = MicrositeFactory(name="Canarysite Bhavnagar", districts=[BHAVNAGAR])

    # A record-linking job of X's (queued, so it can be cancelled), with a bad row and an uncertain match.
    w.linking_job = LinkingJob.objects.create(
        facility=w.x,
        uploaded_by=w.staff_x,
        file="linking/x.csv",
        original_name="x.csv",
        file_format=LinkingFileFormat.CSV,
    )
    LinkingRowError.objects.create(job=w.linking_job, row_number=2, field="mobile", code="invalid", detail="")
    w.linking_review = LinkingReview.objects.create(
        job=w.linking_job, facility=w.x, row_number=3, care_context=w.unlinked.care_context, candidate_ids=[w.a.pk]
    )
    w.token_user = UserFactory(username="token-user")

    w.users = {role: getattr(w, role) for role in ROLES if role != "anon"}
    w.canaries = {
        "identity_a": [w.a.abha_number, w.a.abha_number_display, "Canaryben"],
        "health_a": ["Canarycare"],
        "draft_x": ["Canarydraft"],
        "microsite_x": ["Canarysite"],
        "professional_x": ["Canarypro"],
    }
    return w


def _link(w, status):
    link = LinkRequest(
        patient=w.a,
        facility=w.x,
        match=LinkMatch.WEAK,
        status=status,
        otp_expires_at=timezone.now() + dt.timedelta(minutes=10),
    )
    link.otp_hash = otp_digest(f"link:{link.uuid}", PIN)
    link.save()
    link.care_contexts.set([w.unlinked.care_context])
    return link


# --- The table ---------------------------------------------------------------------------------------

X = lambda w: {"uuid": w.x.uuid}  # noqa: E731 - one-line table helpers
DRAFT = lambda w: {"uuid": w.x_draft.uuid}  # noqa: E731
COUNTER = lambda w: {"uuid": w.x.uuid, "code": w.counter.code}  # noqa: E731
PRO = lambda w: {"uuid": w.professional.uuid}  # noqa: E731
TOKEN = lambda w: {"uuid": w.token.uuid}  # noqa: E731
UPLOAD = lambda w: {"uuid": w.upload.uuid}  # noqa: E731
IDENTITY_TO_MEMBERS = {"identity_a": roles("members")}
LINKING_JOB = lambda w: {"uuid": w.linking_job.uuid}  # noqa: E731
# Uncertain matches (names from the file, the candidates) are decided by the facility's own people only.
LINKING_REVIEW_SEES = {}


def _linking_csv():
    row = {
        "mobile": "9876500003",
        "name": "Ravi Shah",
        "gender": "M",
        "year_of_birth": "1980",
        "care_context_reference": "BATCH-1",
        "care_context_display": "OPD visit",
        "visit_date": "2025-02-01",
        "hi_type": HiType.PRESCRIPTION,
    }
    lines = [",".join(REQUIRED_COLUMNS), ",".join(row.get(column, "") for column in REQUIRED_COLUMNS)]
    return SimpleUploadedFile("batch.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")


DRAFT_BODY = {**DRAFT_DATA, "name": "A New Draft"}
RECORD_BODY = lambda w: {  # noqa: E731
    "facility": w.x.facility_id,
    "abha_number": w.a.abha_number,
    "care_context": {"reference": "CC-NEW-1", "display": "OPD visit", "date": "2025-03-01"},
    "hi_type": HiType.PRESCRIPTION,
    "bundle": bundle_for(HiType.PRESCRIPTION, key="new-1"),
}
CONSENT_BODY = lambda w: {  # noqa: E731
    "patient": w.a_address,
    "purpose": "CAREMGT",
    "hi_types": ["Prescription"],
    "date_from": "2025-01-01",
    "date_to": "2025-03-31",
    "data_erase_at": (timezone.now() + dt.timedelta(days=30)).isoformat(),
}
PROFESSIONAL_BODY = {
    "name": "Dr New Registrant",
    "category": "doctor",
    "sub_category": "modern",
    "council": "gmc",
    "registration_number": "G-99901",
    "registration_date": "2016-06-01",
    "registration_type": "permanent",
    "qualifications": [{"degree": "MBBS", "college": "Govt Medical College", "year": 2015}],
    "work_status": "government",
    "mobile": "7000000999",
    "state_lgd": 24,
    "district_lgd": BHAVNAGAR,
}

ROWS = [
    # core pages and API
    Row("core:home", "*"),
    Row("core:login", "*"),
    Row("core:logout", "*", method="post", write=False),
    Row(
        "core:password_set",
        "*",
        kwargs=lambda w: {"uidb64": "MQ", "token": "not-a-token"},
        why="the emailed token is the credential; a wrong one shows 'link invalid' to anyone",
        public=True,
    ),
    Row(
        "facilities:invitation",
        "*",
        kwargs=lambda w: {"token": "not-a-token"},
        why="the SMS token is the credential; a wrong one shows 'no longer valid' to anyone",
        public=True,
    ),
    Row(
        "api-invitation-answer",
        "*",
        method="post",
        data={"token": "not-a-token", "decision": "decline"},
        why="the SMS token is the credential; a wrong one is a 404 for anyone",
        public=True,
    ),
    Row("healthz", "*"),
    Row("favicon", "*", why="a redirect to the static icon", public=True),
    Row("microsites:achievements", "*", why="the state's public figures: nothing personal", public=True),
    Row(
        "scan_display_kiosk",
        "*",
        kwargs=lambda w: {"key": "not-a-display-key"},
        why="the display key is the credential; a wrong one is a 404 for anyone",
        public=True,
    ),
    Row("set_language", "*", method="post", data={"language": "hi", "next": "/"}, write=False),
    Row("api-schema", "*"),
    Row("api-docs", "*"),
    Row("admin:index", "officials"),
    Row("admin:facilities_facility_changelist", "officials"),
    Row("admin:abha_abhaaccount_changelist", "officials"),
    Row("admin:records_healthrecord_changelist", "officials"),
    Row("admin:records_carecontext_changelist", "officials"),
    Row("admin:records_consentrequest_changelist", "officials"),
    Row("admin:records_breakglassgrant_changelist", "state", why="state officials review emergency access"),
    Row("admin:microsites_microsite_changelist", "officials"),
    Row("admin:core_user_changelist", "officials", why="state officials all; officers their districts' officials"),
    Row("admin:core_auditevent_changelist", "state"),
    Row("admin:abdm_outboxmessage_changelist", "state", why="the state's ABDM integration: what waits, what failed"),
    Row("admin:abdm_callbackreceipt_changelist", "state", why="the state's ABDM integration: callbacks answered"),
    # The gateway's callbacks: only the gateway's signed token lets a call in, never a portal session. A path no app
    # registered is a 404 for everyone; a registered path refuses every role with 401 and audits the refusal
    # (the matrix counts an audited denial as a change, so abdm/tests/test_callbacks.py covers those).
    Row(
        "abdm_callback",
        "",
        method="post",
        kwargs=lambda w: {"rest": "access-matrix/not-a-callback"},
        data={"resp": {"requestId": "00000000-0000-4000-8000-000000000000"}},
        why="gateway callbacks answer the gateway's signed token only",
    ),
    Row(
        "admin:abha_abhaaccount_change",
        "x_officers",
        kwargs=lambda w: {"object_id": w.a.pk},
        deny_to=("/admin/",),
        why="the admin answers an object outside the caller's scope with a redirect to its index",
    ),
    Row(
        "admin:facilities_facility_change",
        "x_officers",
        kwargs=lambda w: {"object_id": w.x_draft.pk},
        deny_to=("/admin/",),
    ),
    Row(
        "admin:records_healthrecord_change",
        "",
        kwargs=lambda w: {"object_id": w.record.pk},
        deny_to=("/admin/",),
        why="officials never see health records",
    ),
    Row("api-token", "*", method="post", data={"username": "token-user", "password": "correct-horse-battery"}),
    Row("api-sign-out", "signed_in", method="post", why="revokes the caller's own API token"),
    Row("api-me", "signed_in"),
    Row("api-districts", "*"),
    # Facilities API
    Row("api-directory-facilities", "*"),
    Row("api-directory-facilities", "*", query="q=Canarydr", label="search", why="drafts are not in the directory"),
    Row("api-directory-professionals", "*"),
    Row(
        "api-directory-professionals",
        "*",
        query="q=Canarypr",
        label="search",
        why="unverified professionals are not in the directory",
    ),
    Row("api-facilities", "signed_in", query="mine=false"),
    Row("api-facilities", "signed_in", query="status=draft&q=Canarydr", label="drafts"),
    Row("api-facilities", "x_staff staff_y", method="post", data=DRAFT_BODY, why="facility admins and staff register"),
    Row("api-facility", "x_admin_viewers", kwargs=DRAFT),
    Row("api-facility", "staff_x", method="patch", kwargs=DRAFT, data={"beds": 20}),
    Row("api-facility-duplicates", "x_admin_viewers", kwargs=DRAFT),
    Row("api-facility-submit", "staff_x", method="post", kwargs=DRAFT, data={"confirm_not_duplicate": True}),
    Row(
        "api-facility-verify",
        "x_officers",
        method="post",
        kwargs=lambda w: {"uuid": w.x_submitted.uuid},
        data={"decision": "approve"},
    ),
    Row("api-facility-suspend", "x_officers", method="post", kwargs=X, data={"reason": "Inspection pending"}),
    Row(
        "api-facility-reinstate",
        "x_officers",
        method="post",
        kwargs=lambda w: {"uuid": w.x_suspended.uuid},
        data={"reason": "Inspection passed"},
    ),
    Row("api-facility-close", "x_officers", method="post", kwargs=X, data={"reason": "Closed down"}),
    Row("api-facility-counters", "x_viewers", kwargs=X),
    Row("api-facility-counters", "staff_x", method="post", kwargs=X, data={"code": "OPD9", "name": "Eye OPD"}),
    Row("api-facility-counter", "staff_x", method="patch", kwargs=COUNTER, data={"name": "Main OPD"}),
    Row("api-facility-team", "x_viewers", kwargs=X),
    Row(
        "api-facility-team",
        "staff_x",
        method="post",
        kwargs=X,
        data={"role": "staff", "mobile": "9811111111", "name": "New Nurse"},
    ),
    Row(
        "api-facility-member",
        "staff_x",
        method="delete",
        kwargs=lambda w: {"uuid": w.x.uuid, "member": w.teammate.uuid},
    ),
    Row("api-professionals", "signed_in"),
    Row("api-professionals", "signed_in", query="status=submitted&q=Canarypr", label="submitted"),
    Row(
        "api-professionals",
        "members",
        method="post",
        data=PROFESSIONAL_BODY,
        why="facility people register themselves as professionals",
    ),
    Row("api-professional", "x_admin_viewers", kwargs=PRO),
    Row("api-professional", "", method="patch", kwargs=PRO, data={"name": "Dr Changed"}, why="only its owner"),
    Row("api-professional-submit", "", method="post", kwargs=PRO, why="only its owner"),
    Row("api-professional-verify", "x_officers", method="post", kwargs=PRO, data={"decision": "approve"}),
    Row(
        "api-professional-affiliation-confirm",
        "staff_x",
        method="post",
        kwargs=lambda w: {"uuid": w.professional.uuid, "facility_uuid": w.x.uuid},
    ),
    Row(
        "api-scan-share",
        "citizens",
        method="post",
        data=lambda w: {"hip_id": w.x.facility_id, "counter_id": w.counter.code},
        write=False,
        why="each citizen shares their own profile (A's repeat share returns her token: 200, nothing new)",
    ),
    Row("api-scan-share-call", "x_staff", method="post", kwargs=TOKEN),
    Row("api-scan-share-done", "x_staff", method="post", kwargs=TOKEN),
    Row("api-scan-share-no-show", "x_staff", method="post", kwargs=TOKEN),
    Row("api-facility-queue", "x_staff", kwargs=X),
    # ABHA API: enrollment and sign-in are public (the OTP to the mobile is the credential).
    Row(
        "api-abha-enrol-otp",
        "*",
        method="post",
        data={"aadhaar": "234123412346", "consent_version": CURRENT_CONSENT_VERSION},
        public=True,
    ),
    Row(
        "api-abha-enrol-otp-resend",
        "*",
        method="post",
        data={"txn_id": "00000000-0000-4000-8000-000000000000"},
        public=True,
    ),
    Row(
        "api-abha-enrol-verify",
        "*",
        method="post",
        data={"txn_id": "00000000-0000-4000-8000-000000000000"},
        public=True,
    ),
    Row(
        "api-abha-enrol-mobile-verify",
        "*",
        method="post",
        data={"txn_id": "00000000-0000-4000-8000-000000000000"},
        public=True,
    ),
    Row("api-abha-enrol-suggestions", "*", query="txn_id=00000000-0000-4000-8000-000000000000", public=True),
    Row("api-abha-enrol-address-check", "*", query="abha_address=someone.new", public=True),
    Row(
        "api-abha-enrol-complete",
        "*",
        method="post",
        data={"txn_id": "00000000-0000-4000-8000-000000000000"},
        public=True,
    ),
    Row("api-abha-login-otp", "*", method="post", data=lambda w: {"login_id": w.a.abha_number}, public=True),
    Row(
        "api-abha-login-otp-resend",
        "*",
        method="post",
        data={"txn_id": "00000000-0000-4000-8000-000000000000"},
        public=True,
    ),
    Row(
        "api-abha-login-verify",
        "*",
        method="post",
        data={"txn_id": "00000000-0000-4000-8000-000000000000"},
        public=True,
    ),
    Row("api-abha-me", "citizens", why="each citizen their own account"),
    Row("api-abha-card-png", "citizens"),
    Row("api-abha-card-pdf", "citizens"),
    Row(
        "api-abha-lookup",
        "members",
        query=lambda w: f"id={w.a.abha_number}",
        sees=IDENTITY_TO_MEMBERS,
        why="M1 verification: facility people look a patient up by number (audited)",
    ),
    # Microsites and dashboard API
    Row("api-microsites", "officials"),
    Row("api-microsites-leaderboard", "officials"),
    Row("api-microsite", "x_officers", kwargs=lambda w: {"uuid": w.microsite.uuid}),
    Row("api-dashboard-summary", "x_officers", query=f"district_lgd={BHAVNAGAR}"),
    Row("api-dashboard-districts", "x_officers", query=f"district_lgd={BHAVNAGAR}"),
    Row("api-dashboard-timeseries", "x_officers", query=f"district_lgd={BHAVNAGAR}&metric=abha_created"),
    # Records and consent API
    Row(
        "api-records",
        "citizens members",
        query=lambda w: f"patient={w.a.abha_number}",
        write=False,
        sees=IDENTITY_TO_MEMBERS,
        why="staff read their own facility's records of a patient; citizens their own",
    ),
    Row("api-records", "x_staff", method="post", data=RECORD_BODY),
    Row("api-link-discover", "citizens", query=lambda w: f"facility={w.x.facility_id}"),
    Row(
        "api-links",
        "citizen_a",
        method="post",
        data=lambda w: {"facility": w.x.facility_id, "care_contexts": [str(w.unlinked.care_context.uuid)]},
        deny_as=(400,),
        why="B's claim of A's visit is refused like a visit that does not exist: 400 'choose visits found for you'",
    ),
    Row("api-link-review-list", "signed_in", why="a list scoped to the caller's facilities (empty for others)"),
    Row("api-link-confirm", "citizen_a", method="post", kwargs=lambda w: {"uuid": w.link_otp.uuid}, data={"otp": PIN}),
    Row(
        "api-link-review",
        "x_staff",
        method="post",
        kwargs=lambda w: {"uuid": w.link_review.uuid},
        data={"approve": True},
    ),
    Row("api-consent-requests", "signed_in", why="a citizen's inbox or a doctor's requests, scoped"),
    Row(
        "api-consent-requests",
        "doctors",
        method="post",
        data=CONSENT_BODY,
        sees={"identity_a": roles("doctors")},
        why="any doctor may ask a patient for consent",
    ),
    Row(
        "api-consent-requests",
        "",
        method="post",
        data=lambda w: {**CONSENT_BODY(w), "requester_facility": w.x.facility_id},
        label="for another facility",
        why="a doctor asks only on behalf of a facility where they are a doctor",
    ),
    Row(
        "api-btg",
        "",
        method="post",
        data=lambda w: {
            "patient": w.a_address,
            "reason": "Unconscious after a road accident",
            "facility": w.x.facility_id,
        },
        label="for another facility",
    ),
    Row("api-consent-grant", "citizen_a", method="post", kwargs=lambda w: {"uuid": w.pending.uuid}, data={}),
    Row("api-consent-deny", "citizen_a", method="post", kwargs=lambda w: {"uuid": w.pending.uuid}),
    Row("api-artefact-revoke", "citizen_a", method="post", kwargs=lambda w: {"uuid": w.artefact.uuid}),
    Row("api-artefact-records", "doctor_consent", kwargs=lambda w: {"uuid": w.artefact.uuid}, write=False),
    Row(
        "api-btg",
        "doctors",
        method="post",
        data=lambda w: {"patient": w.a_address, "reason": "Unconscious after a road accident"},
        sees={"identity_a": roles("doctors")},
        why="break-the-glass is open to any doctor, audited and reviewed",
    ),
    Row("api-btg-records", "doctor_consent", kwargs=lambda w: {"uuid": w.btg.uuid}, write=False),
    Row("api-hiu-requests", "doctors", why="a doctor's own requests through ABDM"),
    Row(
        "api-hiu-requests",
        "doctors",
        method="post",
        data=lambda w: {
            "patient": w.a_address,
            "purpose": "CAREMGT",
            "hi_types": ["Prescription", "Invoice"],
            "date_from": "2025-01-01T00:00:00Z",
            "date_to": "2025-03-31T00:00:00Z",
            "data_erase_at": "2030-01-01T00:00:00Z",
        },
        sees={"identity_a": roles("doctors")},
        why="any doctor may ask a patient for consent through ABDM",
    ),
    Row("api-hiu-artefact-records", "doctor_consent", kwargs=lambda w: {"uuid": w.hiu_artefact.uuid}),
    Row("api-access-log", "citizens"),
    # Facility pages
    Row("facilities:mine", "signed_in"),
    Row("facilities:register", "x_staff staff_y"),
    Row("facilities:queue", "officials"),
    Row("facilities:directory", "*"),
    Row("facilities:hfr_steps", "*", why="how to register on HFR; a manager also sees their drafts without an ID"),
    Row("facilities:directory", "*", query="q=Canarydr", label="search facilities"),
    Row("facilities:directory", "*", query="kind=professionals&q=Canarypr", label="search professionals"),
    Row("facilities:professional_register", "members"),
    Row("facilities:professional_detail", "x_admin_viewers", kwargs=PRO),
    Row("facilities:professional_edit", "", kwargs=PRO, why="only its owner"),
    Row("facilities:professional_submit", "", method="post", kwargs=PRO, why="only its owner"),
    Row("facilities:professional_verify", "x_officers", method="post", kwargs=PRO, data={"decision": "approve"}),
    Row(
        "facilities:professional_confirm",
        "staff_x",
        method="post",
        kwargs=lambda w: {"uuid": w.professional.uuid, "facility_uuid": w.x.uuid},
    ),
    Row("facilities:scan_help", "*"),
    Row("facilities:scan_history", "citizens"),
    Row("facilities:scan_token", "citizen_a", kwargs=TOKEN),
    Row(
        "facilities:scan_token_step", "x_staff", method="post", kwargs=lambda w: {"uuid": w.token.uuid, "step": "call"}
    ),
    Row("facilities:scan_queue", "x_staff", kwargs=X),
    Row("facilities:scan_call_next", "x_staff", method="post", kwargs=COUNTER),
    Row("facilities:scan_display", "x_staff", kwargs=COUNTER),
    Row("facilities:scan_display_key", "staff_x", method="post", kwargs=COUNTER, why="X's admin only"),
    Row("facilities:bulk", "officials"),
    Row("facilities:bulk_detail", "x_officers", kwargs=UPLOAD, why="the uploader and state officials"),
    Row("facilities:bulk_status", "x_officers", kwargs=UPLOAD),
    Row("facilities:bulk_errors", "x_officers", kwargs=UPLOAD),
    Row("facilities:detail", "x_admin_viewers", kwargs=DRAFT),
    Row("facilities:step", "staff_x", kwargs=lambda w: {"uuid": w.x_draft.uuid, "step": "location"}),
    Row("facilities:review", "staff_x", kwargs=DRAFT),
    Row(
        "facilities:verify",
        "x_officers",
        method="post",
        kwargs=lambda w: {"uuid": w.x_submitted.uuid},
        data={"decision": "approve", "reason": ""},
    ),
    Row(
        "facilities:change_status",
        "x_officers",
        method="post",
        kwargs=X,
        data={"action": "suspend", "reason": "Inspection pending"},
    ),
    Row("facilities:counter_add", "staff_x", method="post", kwargs=X, data={"code": "OPD9", "name": "Eye OPD"}),
    Row("facilities:counter_toggle", "staff_x", method="post", kwargs=COUNTER),
    Row(
        "facilities:team_invite",
        "staff_x",
        method="post",
        kwargs=X,
        data={"role": "staff", "mobile": "9811111111", "name": "New Nurse"},
    ),
    Row(
        "facilities:team_remove",
        "staff_x",
        method="post",
        kwargs=lambda w: {"uuid": w.x.uuid, "member": w.teammate.uuid},
    ),
    Row(
        "facilities:counter_poster",
        "x_viewers",
        kwargs=lambda w: {"uuid": w.x.uuid, "code": w.counter.code, "fmt": "png"},
    ),
    Row(
        "scan",
        "*",
        query=lambda w: f"hip-id={w.x.facility_id}&counter-id={w.counter.code}",
        why="the public page a counter's QR opens; each citizen shares their own profile",
        public=True,
    ),
    # ABHA pages: the wizard and sign-in are public and keep their state in the session
    Row("abha:enrol_start", "*", public=True),
    Row("abha:enrol_assisted", "x_staff", kwargs=lambda w: {"facility_uuid": w.x.uuid}, write=False),
    Row("abha:enrol_aadhaar", "*", public=True),
    Row("abha:enrol_otp", "*", public=True),
    Row("abha:enrol_mobile", "*", public=True),
    Row("abha:enrol_address", "*", public=True),
    Row("abha:enrol_address_check", "*", public=True),
    Row("abha:enrol_done", "*", public=True),
    Row("abha:enrolled_card_png", "*", public=True),
    Row("abha:enrolled_card_pdf", "*", public=True),
    Row("abha:signin", "*", public=True),
    Row("abha:signin_otp", "*", public=True),
    Row("abha:signin_choose", "*", public=True),
    # ...and the citizen's own pages (no object in the URL: each citizen gets their own account)
    Row("abha:home", "citizens"),
    Row("abha:card_png", "citizens"),
    Row("abha:card_pdf", "citizens"),
    Row("abha:contact", "citizens"),
    Row("abha:address_add", "citizens"),
    Row("abha:address_check_own", "citizens", query="abha_address=someone.new"),
    Row("abha:mobile_change", "citizens"),
    Row("abha:deactivate", "citizens"),
    Row("abha:reactivate", "citizens"),
    Row("abha:delete", "citizens"),
    Row("abha:change_confirm", "citizens"),
    # Records pages
    Row("records:facility_home", "members"),
    Row(
        "records:record_add",
        "members",
        query=lambda w: f"token={w.token.uuid}",
        why="the form is prefilled from a Scan & Share token only for the token's facility",
    ),
    Row(
        "records:facility_patient",
        "members",
        method="post",
        data=lambda w: {"patient": w.a.abha_number},
        write=False,
        sees=IDENTITY_TO_MEMBERS,
        why="a facility's own records of a patient (none at the other facilities)",
    ),
    Row("records:doctor_requests", "doctors"),
    Row("records:request_new", "doctors"),
    Row("records:artefact_records", "doctor_consent", kwargs=lambda w: {"uuid": w.artefact.uuid}),
    Row(
        "records:artefact_record_bundle",
        "doctor_consent",
        kwargs=lambda w: {"uuid": w.artefact.uuid, "record_uuid": w.record.uuid},
    ),
    Row(
        "records:artefact_record_bundle",
        "",
        kwargs=lambda w: {"uuid": w.artefact.uuid, "record_uuid": w.record_outside_consent.uuid},
        label="outside the consent",
        why="a record the artefact does not cover (a type not granted) is refused, even to its doctor",
    ),
    Row("records:hiu_request_status", "doctor_consent", method="post", kwargs=lambda w: {"uuid": w.hiu_request.uuid}),
    Row("records:hiu_artefact_records", "doctor_consent", kwargs=lambda w: {"uuid": w.hiu_artefact.uuid}),
    Row(
        "records:hiu_record_bundle",
        "doctor_consent",
        kwargs=lambda w: {"uuid": w.hiu_artefact.uuid, "record_uuid": w.hiu_record.uuid},
    ),
    Row(
        "records:hiu_data_push",
        "",
        method="post",
        data={"transactionId": "00000000-0000-4000-8000-000000000000"},
        why="the dataPushUrl takes an HIP's ABDM session token (401 without), never a portal session",
    ),
    Row("records:btg_new", "doctors"),
    Row("records:btg_records", "doctor_consent", kwargs=lambda w: {"uuid": w.btg.uuid}),
    Row("records:citizen_consents", "citizens"),
    Row("records:consent_answer", "citizen_a", kwargs=lambda w: {"uuid": w.pending.uuid}),
    Row("records:artefact_revoke", "citizen_a", method="post", kwargs=lambda w: {"uuid": w.artefact.uuid}),
    Row("records:access_log", "citizens"),
    Row("records:my_records", "citizens"),
    Row("records:link_find", "citizens"),
    Row("records:link_confirm", "citizen_a", kwargs=lambda w: {"uuid": w.link_otp.uuid}),
    Row(
        "records:link_review",
        "x_staff",
        method="post",
        kwargs=lambda w: {"uuid": w.link_review.uuid},
        data={"approve": "1"},
    ),
    # Record-linking jobs: the facility's people (any role) and state officials, who may upload for any facility
    Row("api-linking-jobs", "signed_in", why="a list scoped to the caller's facilities (state: all; others: empty)"),
    Row(
        "api-linking-jobs",
        "x_staff state",
        method="post",
        multipart=True,
        data=lambda w: {"facility": w.x.facility_id, "file": _linking_csv()},
    ),
    Row("api-linking-job", "x_staff state", kwargs=LINKING_JOB),
    Row("api-linking-job-errors", "x_staff state", kwargs=LINKING_JOB),
    Row("api-linking-job-cancel", "x_staff state", method="post", kwargs=LINKING_JOB),
    Row(
        "api-linking-reviews",
        "signed_in",
        sees=LINKING_REVIEW_SEES,
        why="a list scoped to the caller's facilities (others, state officials included: empty)",
    ),
    Row(
        "api-linking-review",
        "x_staff",
        method="post",
        kwargs=lambda w: {"uuid": w.linking_review.uuid},
        data={"decision": "reject"},
        sees=LINKING_REVIEW_SEES,
    ),
    Row("records:linking", "members state"),
    Row("records:linking_reviews", "members state", sees=LINKING_REVIEW_SEES),
    Row(
        "records:linking_reviews",
        "x_staff",
        method="post",
        data=lambda w: {"review": str(w.linking_review.uuid), "account": "reject"},
        sees=LINKING_REVIEW_SEES,
    ),
    Row("records:linking_job", "x_staff state", kwargs=LINKING_JOB),
    Row("records:linking_progress", "x_staff state", kwargs=LINKING_JOB),
    Row("records:linking_errors", "x_staff state", kwargs=LINKING_JOB),
    Row("records:linking_cancel", "x_staff state", method="post", kwargs=LINKING_JOB),
    # Microsites and the dashboard
    Row(
        "microsites:dashboard",
        "x_officers",
        query=f"district={BHAVNAGAR}",
        deny_as=(400,),
        why="the filter form refuses a district outside the officer's area (400, the form error)",
    ),
    Row("microsites:list", "officials"),
    Row("microsites:detail", "x_officers", kwargs=lambda w: {"uuid": w.microsite.uuid}),
]

# Route names answered by a group row rather than one row each.
GROUPED = {
    "admin:": "the Django admin: its index and the changelists above stand for it (ScopedAdmin scopes them all)",
}


# --- Running a cell ----------------------------------------------------------------------------------


def _resolve(value, w):
    return value(w) if callable(value) else value


def _url(row, w):
    url = reverse(row.name, kwargs=_resolve(row.kwargs, w))
    query = _resolve(row.query, w)
    return f"{url}?{query}" if query else url


def _body_text(response) -> str:
    if response.get("Content-Type", "").startswith(("image/", "application/pdf")):
        return ""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def _call(row, w, role):
    """(outcome, detail, leaked canaries) of one cell; everything it wrote is rolled back."""
    client = Client()
    data = _resolve(row.data, w)
    url = _url(row, w)
    with transaction.atomic():
        cache.clear()
        if role != "anon":
            client.force_login(w.users[role])
        before = AuditEvent.objects.count()
        if row.method == "get":
            response = client.get(url)
        elif row.is_api and not row.multipart:
            body = json.dumps(data if data is not None else {})
            response = getattr(client, row.method)(url, body, content_type="application/json")
        else:
            response = getattr(client, row.method)(url, data or {})
        audited = AuditEvent.objects.count() - before
        text = _body_text(response)
        transaction.set_rollback(True)
    status = response.status_code
    location = response.get("Location", "")
    to_sign_in = 300 <= status < 400 and location.split("?")[0].endswith(SIGN_IN_PAGES + row.deny_to)
    if row.public:
        outcome = "allow" if status < 500 and status not in (401, 403) else f"error {status}"
    elif status in (401, 403, 404, *row.deny_as) or to_sign_in:
        outcome = "deny"
    elif status < 400:
        outcome = "allow"
    else:
        outcome = f"error {status}"
    detail = f"{status}{' -> ' + location if location else ''}, audited {audited}"
    leaks = []
    for canary, words in w.canaries.items():
        if role in SEES[canary] | row.sees.get(canary, set()):
            continue
        # What the caller typed into the URL may come back to them (a search box); nothing more may.
        if any(word in text for word in words if word not in url):
            leaks.append(canary)
    return outcome, audited, detail, leaks


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=[row.key for row in ROWS])
def test_access_matrix(world, row):
    allowed = roles(row.allow) if row.allow else frozenset()
    problems = []
    for role in ROLES:
        outcome, audited, detail, leaks = _call(row, world, role)
        expected = "allow" if role in allowed else "deny"
        if outcome != expected:
            problems.append(f"{role:18} expected {expected:5}, got {outcome} ({detail})")
        elif expected == "allow" and row.writes and not row.public and not audited:
            problems.append(f"{role:18} allowed but nothing was written ({detail})")
        elif expected == "deny" and audited:
            problems.append(f"{role:18} denied but {audited} audit row(s) were written ({detail})")
        if leaks:
            problems.append(f"{role:18} saw {', '.join(leaks)} ({detail})")
    assert not problems, f"{row.key} {_url(row, world)}:\n  " + "\n  ".join(problems)


def _route_names(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _route_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}" if pattern.name else f"{namespace}<unnamed {pattern.pattern}>"


def test_every_route_has_a_row():
    covered = {row.name for row in ROWS}
    missing = sorted(
        name for name in set(_route_names()) if name not in covered and not name.startswith(tuple(GROUPED))
    )
    assert not missing, "Routes without a row in the access matrix (add them to ROWS): " + ", ".join(missing)
    stale = sorted(covered - set(_route_names()))
    assert not stale, "Rows for routes that no longer exist: " + ", ".join(stale)
