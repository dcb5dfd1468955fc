"""Content-Security-Policy: the header on every page, strict for scripts; templates carry no inline code."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/abha/enrol/", "/facilities/directory/", "/nowhere/"])
def test_pages_send_a_csp_without_unsafe_inline_or_eval_for_scripts(client, path):
    response = client.get(path)
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


@pytest.mark.django_db
def test_api_answers_carry_the_policy_too(api_client):
    response = api_client.get("/api/v1/geography/districts/?state=24")
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_swagger_ui_loads_its_start_up_code_as_a_file_and_only_widens_styles(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    policy = _directives(page["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src"]
    html = page.content.decode()
    assert not re.search(r"<script>", html)  # no inline start-up script: it is served as ?script=
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"javascript:", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)


def test_no_template_has_inline_scripts_handlers_or_styles():
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for name, pattern in [
            ("inline <script>", INLINE_SCRIPT),
            ("on*= handler", EVENT_HANDLER),
            ("javascript: URL", JS_URL),
            ("style attribute", STYLE_ATTRIBUTE),
            ("<style> element", STYLE_ELEMENT),
        ]:
            if pattern.search(text):
                offenders.append(f"{template.relative_to(ROOT)}: {name}")
    assert offenders == [], "The CSP blocks these; move the code to static/js/ or the style to a CSS class"


@pytest.mark.django_db
def test_a_csrf_failure_is_the_portals_own_page():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    page = strict.post("/accounts/login/", {"username": "x", "password": "y"})
    assert page.status_code == 403
    assert "This form has expired" in page.content.decode()
    assert "<style" not in page.content.decode()
