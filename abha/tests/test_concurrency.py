"""Enrollments at the same time on PostgreSQL: unique numbers, the 6-per-mobile limit holds."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from abha.models import AbhaAccount, OtpTransaction
from abha.services import enrolment, enrolment_complete, enrolment_start
from core.exceptions import DomainError

from .conftest import DETAILS
from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("geography")]


def _verified_txns(mobiles):
    txns = []
    for mobile in mobiles:
        txn = enrolment_start(mobile=mobile, consent_version="2025-04")
        OtpTransaction.objects.filter(pk=txn.pk).update(verified_at=txn.sent_at)
        txns.append(txn.uuid)
    return txns


def _run_concurrently(txn_ids):
    barrier = threading.Barrier(len(txn_ids))

    def complete(txn_id):
        barrier.wait()
        try:
            return enrolment_complete(txn_id=txn_id, data=DETAILS).abha_number
        except DomainError as error:
            return error.code
        finally:
            connection.close()

    with ThreadPoolExecutor(len(txn_ids)) as pool:
        return list(pool.map(complete, txn_ids))


def test_colliding_numbers_are_retried_under_concurrency(monkeypatch):
    # Force collisions: the first two draws of every enrollment are the same number.
    real = enrolment.abha_number_generate
    fixed = real()
    draws = threading.local()

    def colliding():
        draws.n = getattr(draws, "n", 0) + 1
        return fixed if draws.n <= 2 else real()

    monkeypatch.setattr(enrolment, "abha_number_generate", colliding)
    results = _run_concurrently(_verified_txns([f"98765432{i:02d}" for i in range(8)]))
    assert len(set(results)) == 8 and all(len(r) == 14 for r in results)
    assert AbhaAccount.objects.count() == 8
    assert AbhaAccount.objects.filter(abha_number=fixed).count() == 1


def test_six_per_mobile_holds_when_enrollments_race():
    AbhaAccountFactory.create_batch(4, mobile="9876543210")
    txns = _verified_txns(["9876543210"] * 2)  # both pass the early check (4 < 6)...
    txns += _verified_txns(["9876543210"] * 2)  # ...and so do these two
    results = _run_concurrently(txns)
    assert sorted(r if r == "mobile_limit" else "ok" for r in results) == ["mobile_limit", "mobile_limit", "ok", "ok"]
    assert AbhaAccount.objects.filter(mobile="9876543210").count() == 6
