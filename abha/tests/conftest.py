"""Fixtures of the ABHA tests: enrollment and sign-in run against the local ABDM sandbox over HTTP.

The sandbox (abdm_sandbox fixture) lives for the whole run with its own database, so every test uses fresh
Aadhaar numbers and mobiles (`new_aadhaar`, `new_mobile`): an Aadhaar enrolled by one test already has its ABHA for
the next, and a mobile holds at most 6 ABHAs at ABDM.
"""

import importlib
import random

import pytest
from django.apps import apps as django_apps
from stdnum import verhoeff

from abha.models import CURRENT_CONSENT_VERSION
from core.models import District

_rng = random.SystemRandom()


def new_aadhaar() -> str:
    """A fresh valid Aadhaar number (first digit 2-9, Verhoeff check digit, not a palindrome); no real person's."""
    while True:
        body = str(_rng.randrange(2, 10)) + "".join(str(_rng.randrange(10)) for _ in range(10))
        number = body + verhoeff.calc_check_digit(body)
        if number != number[::-1]:
            return number


def new_mobile() -> str:
    return str(_rng.randrange(6, 10)) + f"{_rng.randrange(10**9):09d}"


# The sandbox's resident of an Aadhaar: who UIDAI says the person is (the portal copies it from ABDM's answer).
RESIDENT = {
    "name": "Asha Patel",
    "gender": "F",
    "dob": "1990-05-23",
    "address": "12 Station Road, Bhavnagar",
    "stateCode": "24",
    "stateName": "GUJARAT",
    "districtCode": "443",
    "districtName": "Bhavnagar",
    "pincode": "364001",
}


@pytest.fixture
def geography(db):
    """States and districts, reloaded when a transactional test before us flushed them."""
    if not District.objects.exists():
        migration = importlib.import_module("core.migrations.0002_geography_and_population")
        migration.load(django_apps, None)


class Resident:
    def __init__(self, aadhaar: str, mobile: str):
        self.aadhaar, self.mobile = aadhaar, mobile


def define_resident(sandbox, **fields) -> Resident:
    """A fresh Aadhaar holder at the sandbox's UIDAI (RESIDENT's details unless given); .aadhaar, .mobile (linked)."""
    aadhaar, mobile = new_aadhaar(), fields.pop("mobile", None) or new_mobile()
    answer = sandbox.post("abha/residents", {"aadhaar": aadhaar, "mobile": mobile, **RESIDENT, **fields})
    assert answer.status_code in (200, 201), answer.text
    return Resident(aadhaar, mobile)


def enrol_through_abdm(sandbox, *, actor=None, facility=None, **fields):
    """An ABHA enrolled through the services and ABDM (the sandbox) for a fresh resident; the portal's account."""
    from abha import services

    person = define_resident(sandbox, **fields)
    txn = services.enrolment_start(
        aadhaar=person.aadhaar, consent_version=CURRENT_CONSENT_VERSION, actor=actor, facility=facility
    )
    services.enrolment_verify_aadhaar(txn_id=txn.uuid, otp=sandbox.last_otp(person.mobile), mobile=person.mobile)
    return services.enrolment_complete(txn_id=txn.uuid)


@pytest.fixture
def resident(abdm_sandbox):
    """resident(**fields) defines a fresh Aadhaar holder at the sandbox's UIDAI; .aadhaar and .mobile (linked)."""

    def make(**fields) -> Resident:
        return define_resident(abdm_sandbox, **fields)

    return make


@pytest.fixture
def otp_api(api_client, abdm_sandbox, resident):
    """Helpers that run the API flows against the sandbox (OTPs read from its SMS outbox)."""

    class Flow:
        client = api_client
        sandbox = abdm_sandbox

        def post(self, path, data, client=None):
            return (client or api_client).post(path, data, format="json")

        def start(self, person=None, client=None, **extra):
            person = person or resident()
            response = self.post(
                "/api/v1/abha/enrolment/otp/",
                {"aadhaar": person.aadhaar, "consent_version": CURRENT_CONSENT_VERSION, **extra},
                client,
            )
            assert response.status_code == 201, response.json()
            return response.json()["txn_id"], person

        def verify(self, txn_id, person, mobile=None, client=None, otp=None):
            return self.post(
                "/api/v1/abha/enrolment/verify/",
                {
                    "txn_id": txn_id,
                    "otp": otp or abdm_sandbox.last_otp(person.mobile),
                    "mobile": mobile or person.mobile,
                },
                client,
            )

        def verified(self, person=None, client=None, **extra):
            txn_id, person = self.start(person, client, **extra)
            response = self.verify(txn_id, person, client=client)
            assert response.status_code == 200, response.json()
            return txn_id

        def complete(self, txn_id, client=None, **data):
            return self.post("/api/v1/abha/enrolment/complete/", {"txn_id": txn_id, **data}, client)

        def enrol(self, person=None, **data):
            person = person or resident()
            response = self.complete(self.verified(person), **data)
            assert response.status_code == 201, response.json()
            return {**response.json(), "person": person}

        def sign_in(self, login_id, mobile, **extra):
            response = self.post("/api/v1/abha/login/otp/", {"login_id": login_id})
            assert response.status_code == 201, response.json()
            txn_id = response.json()["txn_id"]
            otp = abdm_sandbox.last_otp(mobile)
            return self.post("/api/v1/abha/login/verify/", {"txn_id": txn_id, "otp": otp, **extra})

    return Flow()


def last_otp(outbox, mobile: str | None = None) -> str:
    """The 6 digits of the newest SMS the portal itself sent (to `mobile`): the changes it still confirms itself
    (deactivate, reactivate, delete). ABDM's OTPs are read from the sandbox (`abdm_sandbox.last_otp`)."""
    message = [m for m in outbox if mobile is None or m["to"] == mobile][-1]
    return next(word for word in message["text"].split() if word.isdigit() and len(word) == 6)
