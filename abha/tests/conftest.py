import importlib

import pytest
from django.apps import apps as django_apps

from abha.models import CURRENT_CONSENT_VERSION
from core.models import District

DETAILS = {
    "first_name": "Asha",
    "last_name": "Patel",
    "gender": "F",
    "year_of_birth": 1990,
    "month_of_birth": 5,
    "day_of_birth": 23,
    "state_lgd": 24,
    "district_lgd": 443,
    "address": "12 Station Road, Bhavnagar",
    "pincode": "364001",
}
# Valid Verhoeff check digits (python-stdnum accepts them); never real people's numbers.
AADHAAR = "234123412346"
OTHER_AADHAAR = "499118665246"


@pytest.fixture
def geography(db):
    """States and districts, reloaded when a transactional test before us flushed them."""
    if not District.objects.exists():
        migration = importlib.import_module("core.migrations.0002_geography_and_population")
        migration.load(django_apps, None)


def last_otp(outbox, mobile: str | None = None) -> str:
    """The 6 digits of the newest SMS (to `mobile`)."""
    message = [m for m in outbox if mobile is None or m["to"] == mobile][-1]
    return next(word for word in message["text"].split() if word.isdigit() and len(word) == 6)


@pytest.fixture
def otp_api(api_client, sms_outbox, django_capture_on_commit_callbacks):
    """Helpers that run the API flow, delivering the on-commit SMS as a real commit would."""

    class Flow:
        client = api_client

        def post(self, path, data, client=None):
            with django_capture_on_commit_callbacks(execute=True):
                return (client or api_client).post(path, data, format="json")

        def start(self, mobile="9876543210", client=None):
            response = self.post(
                "/api/v1/abha/enrolment/otp/", {"mobile": mobile, "consent_version": CURRENT_CONSENT_VERSION}, client
            )
            assert response.status_code == 201, response.json()
            return response.json()["txn_id"]

        def verified(self, mobile="9876543210", client=None):
            txn_id = self.start(mobile, client)
            response = self.post(
                "/api/v1/abha/enrolment/verify/", {"txn_id": txn_id, "otp": last_otp(sms_outbox, mobile)}, client
            )
            assert response.status_code == 200, response.json()
            return txn_id

        def complete(self, txn_id, client=None, **overrides):
            return self.post("/api/v1/abha/enrolment/complete/", {"txn_id": txn_id, **DETAILS, **overrides}, client)

        def enrol(self, mobile="9876543210", **overrides):
            response = self.complete(self.verified(mobile), **overrides)
            assert response.status_code == 201, response.json()
            return response.json()

        def sign_in(self, login_id, **extra):
            response = self.post("/api/v1/abha/login/otp/", {"login_id": login_id})
            assert response.status_code == 201, response.json()
            txn_id = response.json()["txn_id"]
            return self.post("/api/v1/abha/login/verify/", {"txn_id": txn_id, "otp": last_otp(sms_outbox), **extra})

    return Flow()
