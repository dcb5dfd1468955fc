"""Production's security settings, and CSRF on every form."""

import json
import re
from pathlib import Path

from .test_settings import PROD_ENV, _manage

ROOT = Path(__file__).resolve().parents[2]

SETTINGS_AS_JSON = (
    "import json; from django.conf import settings as s; print(json.dumps({name: getattr(s, name) for name in ["
    "'DEBUG', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD',"
    "'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_SECURE', 'SECURE_CONTENT_TYPE_NOSNIFF',"
    "'SECURE_REFERRER_POLICY', 'X_FRAME_OPTIONS', 'SESSION_COOKIE_AGE', 'STAFF_IDLE_MINUTES', 'MIDDLEWARE',"
    "'AUTH_PASSWORD_VALIDATORS', 'CONTENT_SECURITY_POLICY']}))"
)


def test_production_settings_hold_the_web_security_values():
    result = _manage("shell", "-c", SETTINGS_AS_JSON, extra_env=PROD_ENV, drop=("DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"))
    assert result.returncode == 0, result.stderr
    prod = json.loads(result.stdout.strip().splitlines()[-1])
    assert prod["DEBUG"] is False
    assert prod["SECURE_SSL_REDIRECT"] is True
    assert prod["SECURE_HSTS_SECONDS"] >= 31536000
    assert prod["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and prod["SECURE_HSTS_PRELOAD"]
    assert prod["SESSION_COOKIE_SECURE"] and prod["SESSION_COOKIE_HTTPONLY"] and prod["CSRF_COOKIE_SECURE"]
    assert prod["SECURE_CONTENT_TYPE_NOSNIFF"] and prod["X_FRAME_OPTIONS"] == "DENY"
    assert prod["SECURE_REFERRER_POLICY"] == "same-origin"
    assert prod["SESSION_COOKIE_AGE"] <= 8 * 3600
    assert prod["STAFF_IDLE_MINUTES"] <= 30
    for middleware in (
        "django.middleware.security.SecurityMiddleware",
        "csp.middleware.CSPMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "core.middleware.StaffIdleTimeoutMiddleware",
    ):
        assert middleware in prod["MIDDLEWARE"]
    lengths = [v["OPTIONS"]["min_length"] for v in prod["AUTH_PASSWORD_VALIDATORS"] if "MinimumLength" in v["NAME"]]
    assert lengths == [12]
    assert prod["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["script-src"] == ["'self'"]


FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


def test_every_post_form_carries_a_csrf_token():
    missing = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        for form in FORM.findall(template.read_text(encoding="utf-8")):
            if re.search(r'method="post"', form, re.I) and "{% csrf_token %}" not in form:
                missing.append(f"{template.relative_to(ROOT)}: {form[:80]}")
    assert missing == []


# Server-to-server endpoints no browser posts to, each checked another way (abdm/'s gateway callbacks by the
# gateway's signed token, outside this scan).
MACHINE_ENDPOINTS = {
    # The HIU's dataPushUrl: an HIP's server posts entries encrypted to key material this portal issued for an open
    # transaction; an unknown transaction or key is refused (records/tests/test_hiu_faults.py).
    "records/hiu.py",
}


def test_no_view_is_exempt_from_csrf():
    sources = [
        p
        for app in ("core", "abha", "facilities", "records", "scanshare", "microsites", "config")
        for p in (ROOT / app).rglob("*.py")
    ]
    exempt = [str(p.relative_to(ROOT)) for p in sources if "tests" not in p.parts and "csrf_exempt" in p.read_text()]
    assert sorted(set(exempt) - MACHINE_ENDPOINTS) == []
