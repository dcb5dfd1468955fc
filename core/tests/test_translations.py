"""Every UI string has a real Hindi and Gujarati translation."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _entries(po_path: Path):
    """(msgid, msgstr, flags) for each entry of a .po file, without a .po library."""
    text = po_path.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        flags = " ".join(line for line in block.splitlines() if line.startswith("#,"))
        msgid = "".join(re.findall(r'^(?:msgid|msgid_plural)?\s*"(.*)"$', block.split("msgstr")[0], re.M))
        msgstrs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"((?:\n".*")*)', block, re.M)
        if not msgstrs:
            continue
        for head, tail in msgstrs:
            yield msgid, head + "".join(re.findall(r'"(.*)"', tail)), flags


@pytest.mark.parametrize("language, script", [("hi", "\u0900-\u097f"), ("gu", "\u0a80-\u0aff")])
def test_every_string_is_translated_in_the_right_script(language, script):
    po_path = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    entries = [entry for entry in _entries(po_path) if entry[0]]
    assert len(entries) > 40
    untranslated = [msgid for msgid, msgstr, _ in entries if not msgstr]
    fuzzy = [msgid for msgid, _, flags in entries if "fuzzy" in flags]
    assert not untranslated, f"untranslated in {language}: {untranslated[:5]}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy[:5]}"
    native = re.compile(f"[{script}]")
    not_native = [msgid for msgid, msgstr, _ in entries if not native.search(msgstr) and msgid not in {"ABHA", "API"}]
    assert not not_native, f"not in {language} script: {not_native[:5]}"


def test_po_files_cover_every_string_in_the_code(tmp_path):
    """makemessages on a copy of the tree finds no string that the .po files lack."""
    copy = tmp_path / "tree"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", "*.mo"))
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "hi", "-l", "gu", "--no-location", "-i", "conftest.py"],
        cwd=copy,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    for language in ("hi", "gu"):
        regenerated = copy / "locale" / language / "LC_MESSAGES" / "django.po"
        missing = [msgid for msgid, msgstr, _ in _entries(regenerated) if msgid and not msgstr]
        assert not missing, f"strings without a {language} translation: {missing[:5]}"


@pytest.mark.parametrize(
    "language, shown",
    [("en", "5 Oct 2026 · 2,00,000"), ("hi", "5 अक्ट 2026 · 2,00,000"), ("gu", "5 ઑક્ટો 2026 · 2,00,000")],
)
def test_dates_and_numbers_read_as_the_language_and_india_write_them(language, shown):
    """Django ships no Gujarati: its month names come from locale/gu (core/month_names.py). Numbers use Indian
    digit grouping (lakh, crore) in every language (config/formats/)."""
    import datetime

    from django.template import Context, Template
    from django.utils import translation

    with translation.override(language):
        rendered = Template('{% load humanize %}{{ day|date:"j M Y" }} · {{ n|intcomma }}').render(
            Context({"day": datetime.date(2026, 10, 5), "n": 200000})
        )
    assert rendered == shown


def test_march_is_a_word_in_hindi_not_a_syllable():
    # Django's Hindi "मा" for March read as a stray syllable ("5 मा 2025") on records and queues.
    import datetime

    from django.utils import formats, translation

    with translation.override("hi"):
        assert formats.date_format(datetime.date(2025, 3, 5), "j M Y") == "5 मार्च 2025"
