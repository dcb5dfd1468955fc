"""Scan & Share under the 9 a.m. rush, on PostgreSQL: many threads and processes share at one counter at once.

Every counter's numbers must be exactly 1..n (no duplicates, no gaps), and one person gets one token per window.
"""

import contextlib
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection

from abha.tests.factories import AbhaAccountFactory
from core.enums import Role
from facilities.tests.factories import CounterFactory, FacilityFactory
from scanshare import services
from scanshare.models import ScanSequence, ScanToken

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
HIP_ID = "IN2410000777"


@pytest.fixture
def counter():
    return CounterFactory(facility=FacilityFactory(facility_id=HIP_ID), code="OPD1")


def _citizens(n):
    return [AbhaAccountFactory(user__role=Role.CITIZEN) for _ in range(n)]


def _share_at_once(accounts, code="OPD1"):
    """Each account shares from its own thread (own connection), all released by one barrier."""
    barrier = threading.Barrier(len(accounts))

    def share(account):
        barrier.wait()
        try:
            token, created = services.token_issue(account=account, actor=account.user, hip_id=HIP_ID, counter_code=code)
            return token.pk, token.number, created
        finally:
            connection.close()

    with ThreadPoolExecutor(len(accounts)) as pool:
        return list(pool.map(share, accounts))


def _numbers(counter):
    return list(ScanToken.objects.filter(counter=counter).order_by("number").values_list("number", flat=True))


def test_threads_sharing_at_one_counter_get_numbers_one_to_n(counter):
    assert connection.vendor == "postgresql"
    results = _share_at_once(_citizens(32))
    assert sorted(number for _, number, _ in results) == list(range(1, 33))
    assert _numbers(counter) == list(range(1, 33))
    assert ScanSequence.objects.get(counter=counter).last == 32


def test_repeat_shares_at_once_give_one_token_per_person(counter):
    people = _citizens(6)
    results = _share_at_once([person for person in people for _ in range(4)])  # each person taps Share 4 times
    by_person = {}
    for (pk, number, _created), person in zip(results, [p for p in people for _ in range(4)], strict=True):
        by_person.setdefault(person.pk, set()).add((pk, number))
    assert all(len(tokens) == 1 for tokens in by_person.values())
    assert sum(created for _, _, created in results) == 6
    assert _numbers(counter) == list(range(1, 7))
    assert ScanSequence.objects.get(counter=counter).last == 6  # numbers taken by a repeat were given back


@contextlib.contextmanager
def _audit_refusing_inserts():
    """A failure late in a share: its audit row cannot be written."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_audit_down() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit down'; END $$ "
            "LANGUAGE plpgsql; CREATE TRIGGER test_audit_down BEFORE INSERT ON core_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION test_audit_down()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_audit_down ON core_auditevent; DROP FUNCTION test_audit_down()")


def test_a_failed_share_gives_its_number_back(counter):
    first, second = _citizens(2)
    with _audit_refusing_inserts(), pytest.raises(DatabaseError, match="audit down"):
        services.token_issue(account=first, actor=first.user, hip_id=HIP_ID, counter_code="OPD1")
    assert not ScanToken.objects.exists()
    assert services.token_issue(account=second, actor=second.user, hip_id=HIP_ID, counter_code="OPD1")[0].number == 1


SHARE_LOOP = """
import time, os
from abha.models import AbhaAccount
from scanshare.services import token_issue
ids = [int(i) for i in os.environ["SCAN_ACCOUNTS"].split(",")]
accounts = list(AbhaAccount.objects.select_related("district", "user").filter(pk__in=ids))
time.sleep(max(0.0, float(os.environ["SCAN_START_AT"]) - time.time()))
for account in accounts:
    token, _ = token_issue(account=account, actor=account.user, hip_id=os.environ["SCAN_HIP_ID"], counter_code="OPD1")
    print("TOKEN", token.number)
"""


def test_separate_processes_sharing_at_one_counter_get_numbers_one_to_n(counter):
    """Four `manage.py shell` processes (like four gunicorn workers), each sharing for 15 people at once."""
    processes, per_process = 4, 15
    people = _citizens(processes * per_process)
    database = settings.DATABASES["default"]
    start_at = time.time() + 6  # every process has started Django by then, so their loops overlap
    running = []
    for index in range(processes):
        chunk = people[index * per_process : (index + 1) * per_process]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "SCAN_ACCOUNTS": ",".join(str(person.pk) for person in chunk),
            "SCAN_START_AT": str(start_at),
            "SCAN_HIP_ID": HIP_ID,
        }
        running.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "shell", "-c", SHARE_LOOP],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = []
    for process in running:
        out, err = process.communicate(timeout=90)
        assert process.returncode == 0, err[-2000:]
        outputs.append([int(line.split()[1]) for line in out.splitlines() if line.startswith("TOKEN ")])
    assert all(len(numbers) == per_process for numbers in outputs)
    assert sorted(n for numbers in outputs for n in numbers) == list(range(1, processes * per_process + 1))
    assert _numbers(counter) == list(range(1, processes * per_process + 1))
    # The processes really interleaved: no process got one unbroken run of numbers.
    assert sum(numbers == list(range(numbers[0], numbers[0] + per_process)) for numbers in outputs) < processes
