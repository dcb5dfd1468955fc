"""The run-wide log scan (root conftest.py) recognises what it must and lets ordinary lines through."""

import logging

import pytest

from conftest import _PiiLogScan


def _found(message, *args, name="core.sms"):
    scan = _PiiLogScan()
    scan.emit(logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None))
    return scan.found


@pytest.mark.parametrize(
    "message, args",
    [
        ("Duplicate check for %s", ("2341 2341 2346",)),
        ("Duplicate check for %s", ("234123412346",)),
        ("SMS sent to %s", ("9876543210",)),
        ("SMS sent to %s", ("+91 9876543210",)),
        ("SMS text: %s is your ABHA OTP", ("482913",)),
        ("OTP for the login: %s", ("482913",)),
        ("ABHA %s created", ("91-1234-5678-9012",)),
        ("ABHA %s created", ("91123456789012",)),
        ('"%s" 200 35', ("GET /api/v1/abha/lookup/?id=91-1234-5678-9012 HTTP/1.1",)),
        ('"%s" 200 35', ("GET /records/patient/?patient=91%201234%205678%209012 HTTP/1.1",)),
        ('"%s" 200 35', ("GET /api/v1/abha/lookup/?id=asha.patel%40sbx HTTP/1.1",)),
        ("Not Found: %s", ("/abha/Asha.Patel@ABDM/",)),
    ],
)
def test_the_scan_catches_aadhaar_mobiles_otps_and_abha_numbers_and_addresses(message, args):
    assert _found(message, *args)


@pytest.mark.parametrize(
    "message, args",
    [
        ("SMS sent to %s", ("98xxxxxx10",)),
        ("Job %s done in %s ms", ("1f0e2c1a-3b4c-4d5e-8f90-123456789012", 482913)),
        ("ABHA %s created", ("91-XXXX-XXXX-9012",)),
        ('"%s" 200 35', ("GET /api/v1/abha/lookup/?id=<abha_number> HTTP/1.1",)),
        ("GET /api/v1/facilities/?page=2 200 %s", (5123,)),
        ("Verifying OTP for transaction %s", ("1f0e2c1a-3b4c-4d5e-8f90-abcdefabcdef",)),
    ],
)
def test_the_scan_lets_ordinary_lines_through(message, args):
    assert _found(message, *args) == []


def test_factory_boys_own_debug_lines_are_not_the_portals_log():
    assert _found("UserFactory(username=%r)", "9876543210", name="factory.generate") == []


def test_a_request_line_reaches_the_scan_masked(caplog):
    """The scan runs after LOGGING's masking handler, so it checks what the portal writes: a query string with
    an ABHA number, logged as runserver logs a request, reaches the root's handlers (the scan), masked."""
    from conftest import PII_LOG_SCAN

    before = list(PII_LOG_SCAN.found)
    logging.getLogger("django.server").info('"%s" 200 35', "GET /api/v1/abha/lookup/?id=91-1234-5678-9012 HTTP/1.1")
    assert [r.getMessage() for r in caplog.records] == ['"GET /api/v1/abha/lookup/?id=<abha_number> HTTP/1.1" 200 35']
    assert PII_LOG_SCAN.found == before
