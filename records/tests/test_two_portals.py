"""Two portals, one network (issue 18, item 5): two states' portals, each its own bridge on one ABDM sandbox. A doctor
at a facility of state B (Maharashtra) gets, under a consent the citizen grants in the sandbox's ABHA app, the
records a facility of state A (Gujarat) holds.

State A is this test process: its live server is A's bridge, a Celery worker sends A's outbox. State B is another
portal in its own processes (records/tests/portal_instance.py): gunicorn and a Celery worker on its own database (a
copy of this test's migrated, still empty database), its own Redis databases, its own ABDM client ID and bridge URL,
PORTAL_STATE_LGD 27. The sandbox is started here with both API clients. The two portals share nothing but ABDM:
B learns of the patient only by the ABHA address the doctor types, and the records reach B only as A's encrypted
push under the artefact."""

import datetime as dt
import secrets
import threading
import time

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connections
from django.utils import timezone

from abdm import client
from abdm_sandbox.testing import SandboxProcess, _database_url
from abha.tests.factories import AbhaAccountFactory
from conftest import start_celery_worker, stop_celery_worker
from core.enums import Role
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records import selectors
from records.enums import HipArtefactStatus, HipTransferStatus, HiType
from records.linking.models import AbdmCareContextLink, AbdmLinkStatus
from records.models import HipConsentArtefact, HipTransfer, HiuConsentRequest

from .factories import add_record, sandbox_hfr_facility, sandbox_hip_of_this_portal, sandbox_patient
from .factories import wait_until as _wait
from .portal_instance import PortalInstance, clone_database, drop_database, other_redis_databases

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STATE_B = 27  # Maharashtra (LGD); state A is the portal's default, Gujarat (24)
CLIENT_B = "state-b-portal"

# State B's own setup, run inside B (its settings, database and ABDM client): a verified facility in Pune with a
# doctor and an API token, the facility registered on ABDM as an HIU of B's bridge, B's bridge URL registered.
SEED_B = """
from django.conf import settings
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from abdm import client
from core.enums import Role
from core.models import District, State
from facilities.enums import MembershipRole
from facilities.tests.factories import FacilityFactory, MembershipFactory
state = State.objects.get(lgd_code=settings.PORTAL_STATE_LGD)
district, _ = District.objects.get_or_create(lgd_code=521, defaults={"state": state, "name": "Pune"})
facility = FacilityFactory(name="Sassoon General Hospital", facility_id=HIU_ID, state=state, district=district,
                           pincode="411001")
doctor = MembershipFactory(facility=facility, role=MembershipRole.DOCTOR, user__role=Role.DOCTOR).user
call_command("abdm_register_bridge")
client.hfr_request("POST", "/v1/bridges/MutipleHRPAddUpdateServices", json={
    "facilityId": HIU_ID, "facilityName": facility.name,
    "HRP": [{"bridgeId": settings.ABDM_CLIENT_ID, "hipName": facility.name, "type": "HIU", "active": True}]})
result["token"] = Token.objects.create(user=doctor).key
"""


def _test_database_url() -> str:
    database = django_settings.DATABASES["default"]
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


class _Started(threading.Thread):
    """Run `target` beside the test's own setup; `.result()` joins and re-raises what it raised."""

    def __init__(self, target):
        super().__init__(daemon=True)
        self._target_call, self.value, self._error = target, None, None
        self.start()

    def run(self):
        try:
            self.value = self._target_call()
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread by result()
            self._error = error

    def result(self):
        self.join()
        if self._error is not None:
            raise self._error
        return self.value


@pytest.fixture
def network(live_server, settings, tmp_path):
    """The sandbox with both clients; portal B started and set up by itself; portal A (this process) with a facility
    on the sandbox's HFR as an HIP of A's bridge, a patient the sandbox knows, and two visits there linked on ABDM."""
    timings = {"start": time.monotonic()}
    # B's database: a copy of this test's database before anything is written to it (migrated, reference data).
    connections.close_all()
    database_b = clone_database(_test_database_url(), django_settings.DATABASES["default"]["NAME"] + "_state_b")
    secret_b = secrets.token_hex(16)
    clients = f"{settings.ABDM_CLIENT_ID}:{settings.ABDM_CLIENT_SECRET},{CLIENT_B}:{secret_b}"
    (tmp_path / "sandbox").mkdir()
    sandbox = SandboxProcess(
        database_url=_database_url(f"abdm_sandbox_two_portals_{secrets.token_hex(4)}"),
        workdir=tmp_path / "sandbox",
        env={"ABDM_SANDBOX_CLIENTS": clients},
    )
    cache_b, broker_b = other_redis_databases(django_settings.REDIS_URL)
    portal_b = PortalInstance(
        workdir=tmp_path / "state-b",
        database_url=database_b,
        redis_url=cache_b,
        broker_url=broker_b,
        client_id=CLIENT_B,
        client_secret=secret_b,
        sandbox_url=sandbox.url,
        state_lgd=STATE_B,
        extra_env={"ABDM_OUTBOX_MAX_DELAY": "1"},
    )
    sandbox_env = {
        # config/settings/test.py points a subprocess at ABDM_SANDBOX_URLS when set: this sandbox, not the session's.
        "ABDM_SANDBOX_URLS": sandbox.url,
        "ABDM_SANDBOX_SMS_FILES": str(sandbox.sms_file),
        "ABDM_GATEWAY_URL": sandbox.url,
        "ABDM_ABHA_URL": sandbox.url + "/abha/api",
        "ABDM_HFR_URL": sandbox.url + "/v4/int",
    }
    worker_a = None
    try:
        sandbox_started = _Started(sandbox.start)
        portal_b.start()
        # A's worker starts beside the rest: what A queues meanwhile waits in its broker.
        worker_a = _Started(
            lambda: start_celery_worker(
                tmp_path / "worker-a.log",
                extra_env={**sandbox_env, "ABDM_BRIDGE_URL": live_server.url, "ABDM_OUTBOX_MAX_DELAY": "1"},
            )
        )
        sandbox_started.result()
        timings["services"] = time.monotonic()

        hip_id = sandbox_hfr_facility(sandbox, "Sir T General Hospital")
        hiu_id = sandbox_hfr_facility(
            sandbox,
            "Sassoon General Hospital",
            state=STATE_B,
            state_name="MAHARASHTRA",
            district=521,
            district_name="Pune",
        )
        seeded_b = _Started(lambda: portal_b.run_python(f"HIU_ID = {hiu_id!r}\n" + SEED_B))

        # State A: this process on the sandbox, its bridge the live server.
        settings.ABDM_GATEWAY_URL = sandbox.url
        settings.ABDM_ABHA_URL = sandbox.url + "/abha/api"
        settings.ABDM_HFR_URL = sandbox.url + "/v4/int"
        settings.ABDM_BRIDGE_URL = live_server.url
        client.forget_session_token()
        client.gateway_request("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": live_server.url})
        sandbox_hip_of_this_portal(hip_id, "Sir T General Hospital")
        facility = FacilityFactory(name="Sir T General Hospital", facility_id=hip_id)
        staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
        patient = AbhaAccountFactory(abha_number="91" + "".join(secrets.choice("0123456789") for _ in range(12)))
        address = sandbox_patient(sandbox, patient)
        rx = add_record(staff=staff, facility=facility, patient=patient, hi_type=HiType.PRESCRIPTION,
                        date=dt.date(2025, 2, 10), key=f"rx-{patient.abha_number}")  # fmt: skip
        lab = add_record(staff=staff, facility=facility, patient=patient, hi_type=HiType.DIAGNOSTIC_REPORT,
                         date=dt.date(2025, 3, 5), key=f"lab-{patient.abha_number}")  # fmt: skip
        # A links the two visits on ABDM (HIP-initiated linking through A's outbox): the ABHA app then offers them.
        _wait(
            lambda: AbdmCareContextLink.objects.filter(status=AbdmLinkStatus.LINKED).count() == 2,
            what="the two visits linked on ABDM",
        )
        token_b = seeded_b.result()["token"]
        worker_a.result()
        portal_b.wait_ready()
        timings["ready"] = time.monotonic()
        yield type("Network", (), {
            "sandbox": sandbox, "portal_b": portal_b, "hip_id": hip_id, "hiu_id": hiu_id, "facility": facility,
            "patient": patient, "address": address, "rx": rx, "lab": lab, "timings": timings,
            "b_api": _api(portal_b.url, token_b),
        })  # fmt: skip
    except BaseException:
        for name in ("web", "worker"):
            print(f"--- state B {name} log ---\n{portal_b.log(name)}")  # noqa: T201 - shown with the failure
        raise
    finally:
        # The four processes stop side by side (each takes a second or more to shut down).
        stopping = [_Started(portal_b.stop), _Started(sandbox.stop)]
        if worker_a is not None:
            worker_a.join()
            if worker_a.value is not None:
                stopping.append(_Started(lambda: stop_celery_worker(worker_a.value)))
        for stopped in stopping:
            stopped.join()
        client.forget_session_token()  # the next test's token comes from its own sandbox
        for url in (database_b, sandbox.database_url):
            drop_database(url)


def _api(base: str, token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    return session


def test_a_doctor_in_state_b_gets_records_held_in_state_a_under_a_consent_granted_in_the_abha_app(network):
    b_api, base = network.b_api, network.portal_b.url + "/api/v1/consents/abdm"
    # The doctor at B's facility asks through B's API: B sends the consent request init to ABDM as B's bridge.
    asked = b_api.post(
        base + "/requests/",
        json={"patient": network.address, "purpose": "CAREMGT", "hi_types": ["Prescription", "DiagnosticReport"],
              "date_from": "2025-01-01T00:00:00Z", "date_to": timezone.now().isoformat(),
              "data_erase_at": (timezone.now() + dt.timedelta(days=1)).isoformat()},
        timeout=30,
    )  # fmt: skip
    assert asked.status_code == 201, asked.text
    assert asked.json()["requester_facility"] == network.hiu_id

    def b_request():
        found = [r for r in b_api.get(base + "/requests/", timeout=30).json() if r["uuid"] == asked.json()["uuid"]]
        return found[0] if found else None

    consent_request = _wait(lambda: (r := b_request()) and r["consent_request_id"] and r, what="ABDM's on-init to B")
    assert consent_request["status"] == "REQUESTED", consent_request
    # A never saw the request: it went from B to ABDM.
    assert not HiuConsentRequest.objects.exists()

    # The citizen grants in the sandbox's ABHA app, which offers the visits A linked.
    granted = network.sandbox.post(f"app/consents/{consent_request['consent_request_id']}/grant", json={})
    assert granted.status_code == 200, granted.text
    [item] = granted.json()["consentArtefacts"]

    # A, as HIP, is told of the artefact; B, as HIU, fetches it and pulls the data; A pushes to B's dataPushUrl.
    hip_artefact = _wait(lambda: HipConsentArtefact.objects.filter(consent_id=item["id"]).first(), what="A notified")
    assert hip_artefact.status == HipArtefactStatus.GRANTED and hip_artefact.facility == network.facility
    assert hip_artefact.hiu_id == network.hiu_id
    transfer = _wait(
        lambda: HipTransfer.objects.filter(artefact=hip_artefact, notified_at__isnull=False).first(),
        seconds=90,
        what="A's push to B and its transfer notification",
    )
    assert transfer.status == HipTransferStatus.TRANSFERRED, (transfer.status, transfer.last_push_error)
    assert transfer.data_push_url == network.portal_b.url + "/records/hiu/data-push/"

    artefact = _wait(
        lambda: (r := b_request()) and r["artefacts"] and r["artefacts"][0]["fetched_at"] and r["artefacts"][0],
        what="B's fetched artefact",
    )
    assert artefact["artefact_id"] == item["id"] and artefact["hip_id"] == network.hip_id

    def b_records():
        answer = b_api.get(f"{base}/artefacts/{artefact['uuid']}/records/", timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()["count"] == 2 and answer.json()

    received = _wait(b_records, what="the records at B")
    by_reference = {r["care_context_reference"]: r for r in received["records"]}
    assert set(by_reference) == {network.rx.care_context.reference, network.lab.care_context.reference}
    assert by_reference[network.rx.care_context.reference]["hi_type"] == "Prescription"
    assert by_reference[network.lab.care_context.reference]["hi_type"] == "DiagnosticReport"
    assert all(r["bundle"] is None and r["summary"] for r in received["records"])  # VIEW: shown, not handed out

    # The citizen's access log at A shows both visits sent out to B's facility under this artefact.
    sent = [e for e in selectors.access_log_for(network.patient) if e.details.get("abdm")]
    assert {e.details["care_context"] for e in sent} == set(by_reference)
    assert {e.details["artefact"] for e in sent} == {item["id"]}
    # The citizen revokes in the ABHA app: ABDM tells both bridges; B refuses the read at once, A marks its artefact.
    revoked = network.sandbox.post(f"app/artefacts/{item['id']}/revoke", json={})
    assert revoked.status_code == 200, revoked.text
    _wait(
        lambda: b_api.get(f"{base}/artefacts/{artefact['uuid']}/records/", timeout=30).status_code == 403,
        what="B's read refused after the revocation",
    )
    refused = b_api.get(f"{base}/artefacts/{artefact['uuid']}/records/", timeout=30).json()
    assert refused["error"]["code"] == "consent_inactive", refused
    _wait(
        lambda: HipConsentArtefact.objects.filter(pk=hip_artefact.pk, status=HipArtefactStatus.REVOKED).exists(),
        what="A told of the revocation",
    )

    # Neither of B's processes failed on the way (a 500 or a task error would be in their logs).
    for name in ("web", "worker"):
        assert "Traceback" not in network.portal_b.log(name, tail=200_000), network.portal_b.log(name)
    timings = network.timings
    print(  # noqa: T201 - the wall time of each part, for the CI budget
        f"two portals: services {timings['services'] - timings['start']:.1f} s, "
        f"set up {timings['ready'] - timings['services']:.1f} s, loop {time.monotonic() - timings['ready']:.1f} s"
    )
