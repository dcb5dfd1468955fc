"""No Aadhaar-, mobile- or OTP-shaped string in the log output (at DEBUG) or in any URL of the main flows:
enrollment through ABDM with Aadhaar and OTP (pages and API, the sandbox over HTTP), citizen sign-in, Scan & Share,
staff sign-in (pages and API)."""

import logging
import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from core.enums import Role
from core.tests.factories import UserFactory
from facilities.enums import MembershipRole
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
AADHAAR_SHAPED = re.compile(r"(?<!\d)\d{4}[ -]?\d{4}[ -]?\d{4}(?!\d)")
MOBILE_SHAPED = re.compile(r"(?<!\d)(?:\+?91[ -]?)?[6-9]\d{9}(?!\d)")


class RecordingClient(Client):
    """A test client that remembers every URL it asked for and every redirect it was sent to."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.urls = []

    def request(self, **request):
        response = super().request(**request)
        self.urls.append(response.wsgi_request.get_full_path())
        if response.get("Location"):
            self.urls.append(response["Location"])
        return response


def _pii_in(text: str, otps: list[str]) -> list[str]:
    text = UUID.sub("<uuid>", text)  # a UUID's last group can be 12 digits by chance
    found = AADHAAR_SHAPED.findall(text) + MOBILE_SHAPED.findall(text)
    found += [otp for otp in otps if re.search(rf"(?<!\d){otp}(?!\d)", text)]
    return found


@override_settings(LOGIN_ACCOUNT_MAX_FAILURES=2)
def test_main_flows_leave_no_aadhaar_mobile_or_otp_in_logs_or_urls(
    sms_outbox, django_capture_on_commit_callbacks, caplog, resident, abdm_sandbox
):
    # The people and places first: factory_boy logs its arguments at DEBUG, and the staff member's username
    # looks like a mobile on purpose (like the wrong password below): neither may reach a log line or a URL.
    facility = FacilityFactory(name="Sir T Hospital", facility_id="IN2410000123")
    CounterFactory(facility=facility, code="OPD1")
    staff = MembershipFactory(
        facility=facility, role=MembershipRole.STAFF, user__role=Role.FACILITY_STAFF, user__username="9898989898"
    ).user
    UserFactory(username="officer9")
    first, second = resident(), resident()
    caplog.set_level(logging.DEBUG)
    web = RecordingClient()
    api = RecordingClient(enforce_csrf_checks=False)

    def post(client, path, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data, **extra)

    # Enrollment on the pages: Aadhaar, a wrong OTP, the right one with the mobile, the address check.
    post(web, reverse("abha:enrol_start"), {"agree": "on"})
    assert post(web, reverse("abha:enrol_aadhaar"), {"aadhaar": first.aadhaar}).status_code == 302
    post(web, reverse("abha:enrol_otp"), {"otp": "000000", "mobile": first.mobile})
    post(web, reverse("abha:enrol_otp"), {"otp": abdm_sandbox.last_otp(first.mobile), "mobile": first.mobile})
    web.get(reverse("abha:enrol_address_check"), {"abha_address": "asha.pii"})
    post(web, reverse("abha:enrol_address"), {"choice": "default"})
    web.get(reverse("abha:enrol_done"))
    web.get(reverse("abha:enrolled_card_png"))

    # Enrollment and sign-in through the API (JSON bodies), with a wrong OTP too.
    json = {"content_type": "application/json"}
    started = post(
        api, "/api/v1/abha/enrolment/otp/", {"aadhaar": second.aadhaar, "consent_version": "2025-04"}, **json
    )
    txn_id = started.json()["txn_id"]
    verify = {"txn_id": txn_id, "mobile": second.mobile}
    post(api, "/api/v1/abha/enrolment/verify/", {**verify, "otp": "000000"}, **json)
    post(api, "/api/v1/abha/enrolment/verify/", {**verify, "otp": abdm_sandbox.last_otp(second.mobile)}, **json)
    assert post(api, "/api/v1/abha/enrolment/complete/", {"txn_id": txn_id}, **json).status_code == 201
    login = post(api, "/api/v1/abha/login/otp/", {"login_id": second.mobile}, **json)
    otp = abdm_sandbox.last_otp(second.mobile)
    post(api, "/api/v1/abha/login/verify/", {"txn_id": login.json()["txn_id"], "otp": otp}, **json)

    # Citizen sign-in on the pages with the mobile, then Scan & Share at a counter.
    citizen = RecordingClient()
    post(citizen, reverse("abha:signin"), {"login_id": first.mobile})
    post(citizen, reverse("abha:signin_otp"), {"otp": abdm_sandbox.last_otp(first.mobile)})
    citizen.get(reverse("abha:home"))
    scan = "/scan/?hip-id=IN2410000123&counter-id=OPD1"
    citizen.get(scan)
    share = post(citizen, scan, {"share": "1"})
    citizen.get(share["Location"])
    walk_in = RecordingClient()
    post(walk_in, scan, {"login_id": second.mobile})
    post(walk_in, scan, {"otp": abdm_sandbox.last_otp(second.mobile)})
    post(walk_in, scan, {"share": "1"})

    # Staff: wrong passwords until the lockout, then the queue; the API token too.
    desk = RecordingClient()
    for _ in range(3):
        post(desk, "/accounts/login/", {"username": "officer9", "password": "7878787878"})
    post(desk, "/accounts/login/", {"username": staff.username, "password": "correct-horse-battery"})
    desk.get(reverse("facilities:scan_queue", args=[facility.uuid]))
    post(api, "/api/v1/auth/token/", {"username": "officer9", "password": "wrong"}, **json)

    messages = abdm_sandbox.messages(first.mobile) + abdm_sandbox.messages(second.mobile)
    otps = [word for sms in messages for word in re.findall(r"(?<!\d)\d{6}(?!\d)", sms["text"])]
    assert len(otps) == 5  # ABDM's: two Aadhaar OTPs, three sign-ins
    assert "ABDM POST /v3/enrollment/enrol/byAadhaar" in caplog.text  # the log did capture the flows
    urls = web.urls + api.urls + citizen.urls + walk_in.urls + desk.urls
    assert any("/scan/" in url for url in urls)
    leaks = _pii_in(caplog.text, otps)
    assert leaks == [], f"PII-shaped strings in the log output: {leaks}"
    url_leaks = _pii_in("\n".join(urls), otps)
    assert url_leaks == [], f"PII-shaped strings in URLs: {url_leaks}"
