"""Schemathesis against the live OpenAPI schema (/api/schema/), once per role, over HTTP on loopback (gunicorn):
no 5xx, no status code the schema does not list, every response matching its schema.

`make fuzz` runs it (with throwaway PostgreSQL and Redis, like `make test`); `make test` leaves it out
(marker `fuzz`). FUZZ_MAX_EXAMPLES and FUZZ_SEED change the budget and the seed; a failure prints
schemathesis' report with a curl line to reproduce each finding.
"""

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from abha.tests.factories import AbhaAccountFactory
from core.enums import Role
from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory, UserFactory
from facilities.enums import FacilityStatus, MembershipRole
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory, ProfessionalFactory
from microsites.tests.factories import MicrositeFactory
from records import services as records_services
from records.tests.factories import add_record, request_consent
from scanshare import services as scanshare_services

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[3]
ROLES = ["anonymous", "citizen", "facility_staff", "facility_admin", "doctor", "district_officer", "state_official"]
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "6")
# The coverage phase (boundary values for every parameter) takes minutes per role: FUZZ_PHASES=coverage,fuzzing
PHASES = os.environ.get("FUZZ_PHASES", "fuzzing")
SEED = os.environ.get("FUZZ_SEED", "20261127")
CHECKS = ",".join(
    [
        "not_a_server_error",  # no 5xx
        "status_code_conformance",  # no status code the operation does not list
        "content_type_conformance",
        "response_schema_conformance",  # the body matches the documented schema
        "response_headers_conformance",  # e.g. Retry-After on 429 and 503
    ]
)


@pytest.fixture
def fuzz_world():
    """One of everything the API names in a path, and a user for each role who owns some of it."""
    facility = FacilityFactory(name="Fuzz General Hospital")
    submitted = FacilityFactory(name="Fuzz Submitted Clinic", status=FacilityStatus.SUBMITTED)
    admin = MembershipFactory(facility=facility, role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN)
    staff = MembershipFactory(facility=facility, role=MembershipRole.STAFF, user__role=Role.FACILITY_STAFF)
    MembershipFactory(facility=submitted, role=MembershipRole.ADMIN, user=admin.user)
    clinic = FacilityFactory(name="Fuzz Doctor's Clinic")
    doctor = UserFactory(role=Role.DOCTOR)
    MembershipFactory(facility=clinic, user=doctor, role=MembershipRole.DOCTOR)
    counter = CounterFactory(facility=facility, code="OPD1")
    professional = ProfessionalFactory(user=doctor)
    patient = AbhaAccountFactory()
    add_record(staff=staff.user, facility=facility, patient=patient, date=dt.date(2025, 2, 10), key="fuzz")
    pending = request_consent(doctor=doctor, patient=patient)
    granted = request_consent(doctor=doctor, patient=patient)
    _request, artefacts = records_services.consent_grant(actor=patient.user, request_uuid=granted.uuid)
    emergency = records_services.btg_grant(
        actor=doctor, patient_identifier=patient.abha_number, reason="Unconscious after a road accident"
    )
    token, _created = scanshare_services.token_issue(
        account=patient, actor=patient.user, hip_id=facility.facility_id, counter_code=counter.code
    )
    users = {
        "citizen": patient.user,
        "facility_staff": staff.user,
        "facility_admin": admin.user,
        "doctor": doctor,
        "district_officer": DistrictOfficerFactory(),
        "state_official": StateOfficialFactory(),
    }
    known = {
        "facility": [facility.uuid, submitted.uuid, clinic.uuid],
        "member": [admin.uuid, staff.uuid],
        "counter": [counter.code],
        "professional": [professional.uuid],
        "consent_request": [pending.uuid, granted.uuid],
        "artefact": [artefact.uuid for artefact in artefacts],
        "btg": [emergency.uuid],
        "scan_token": [token.uuid],
        "microsite": [MicrositeFactory().uuid],
    }
    return users, {kind: [str(value) for value in values] for kind, values in known.items()}


@pytest.fixture
def settings_module():
    return "config.settings.test"


@pytest.fixture
def api_server(transactional_db, tmp_path, settings_module):
    """The portal as production serves it: gunicorn (config.wsgi) on a free loopback port, on the test database.

    A real HTTP server rather than Django's test server, whose simple HTTP parser cut off some generated requests.
    `settings_module` picks the configuration: the test settings, or `make run`'s (config.settings.dev: DEBUG on,
    the SMS file outbox), which an outside fuzz run found three 500s in that the test settings' run did not.
    """
    database = settings.DATABASES["default"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "VAR_DIR": str(tmp_path / "var"),  # make run's secrets and SMS outbox, in this test's folder
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
    }
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi"),
                *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}", log_path
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.mark.django_db(transaction=True)  # the server reads the world through its own connections
@pytest.mark.parametrize("role", ROLES)
def test_api_holds_its_schema_under_fuzzing(role, fuzz_world, api_server, tmp_path):
    _fuzz(role, fuzz_world, api_server, tmp_path)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("settings_module", ["config.settings.dev"])
@pytest.mark.parametrize("role", ["anonymous", "citizen", "state_official"])
def test_make_run_configuration_holds_its_schema_under_fuzzing(role, fuzz_world, api_server, tmp_path):
    _fuzz(role, fuzz_world, api_server, tmp_path)


def _fuzz(role, fuzz_world, api_server, tmp_path):
    users, known = fuzz_world
    base_url, server_log = api_server
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base_url}/api/schema/",
        "--wait-for-schema=30",  # while gunicorn starts
        f"--checks={CHECKS}",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        f"--phases={PHASES}",
        "--generation-with-security-parameters=false",  # our token, not generated Authorization or cookies
        "--workers=2",
        "--generation-database=none",
        "--no-color",
        "--suppress-health-check=all",
        "--request-timeout=30",
        "--exclude-path=/api/v1/auth/sign-out/",  # it revokes the role's token: every later call would be a 401
    ]
    if role != "anonymous":
        token, _created = Token.objects.get_or_create(user=users[role])
        command.append(f"--header=Authorization: Token {token.key}")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "core.tests.fuzz.hooks",
        "FUZZ_KNOWN": json.dumps(known),
    }
    # In a temporary folder: schemathesis keeps a cache of past findings in ./.schemathesis/.
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False)
    report = result.stdout + result.stderr
    print(report)
    server_output = server_log.read_text(errors="replace")
    assert result.returncode == 0, f"schemathesis found problems as {role}:\n{report}\n--- server ---\n{server_output}"
