"""Enrollments at the same time on PostgreSQL, against the sandbox: a double-submitted OTP and the same Aadhaar in two
enrollments at once each make one ABHA here, counted once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from abha.models import AbhaAccount
from abha.services import enrolment_start, enrolment_verify_aadhaar
from core.enums import CountMetric
from core.exceptions import DomainError
from core.models import DailyCount

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("geography")]


def _run_concurrently(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        except DomainError as error:
            return error.code
        finally:
            connection.close()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _created() -> int:
    return sum(DailyCount.objects.filter(metric=CountMetric.ABHA_CREATED).values_list("value", flat=True))


def test_an_otp_submitted_twice_at_once_makes_one_abha(resident, abdm_sandbox):
    person = resident()
    txn = enrolment_start(aadhaar=person.aadhaar, consent_version="2025-04")
    otp = abdm_sandbox.last_otp(person.mobile)

    def verify():
        return enrolment_verify_aadhaar(txn_id=txn.uuid, otp=otp, mobile=person.mobile).is_new

    results = _run_concurrently([verify, verify])
    assert sorted(map(str, results)) == ["True", "wrong_step"]
    assert AbhaAccount.objects.count() == 1 and _created() == 1


def test_the_same_aadhaar_in_two_enrollments_at_once_is_one_abha_here(resident, abdm_sandbox):
    person = resident()
    calls = []
    for _ in range(2):
        txn = enrolment_start(aadhaar=person.aadhaar, consent_version="2025-04")
        otp = abdm_sandbox.last_otp(person.mobile)
        calls.append(lambda txn=txn, otp=otp: enrolment_verify_aadhaar(txn_id=txn.uuid, otp=otp, mobile=person.mobile))
    results = _run_concurrently(calls)
    assert sorted(r.is_new for r in results) == [False, True]  # ABDM made one, and gave it back to the other
    assert results[0].account.abha_number == results[1].account.abha_number
    assert AbhaAccount.objects.count() == 1 and _created() == 1
