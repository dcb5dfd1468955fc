"""Realistic batch files for tests, demos and the benchmark (`manage.py make_linking_file`).

Rows point at existing ABHA accounts, by number, by address, or by mobile + name + gender + year of birth.
A known share of rows is bad in known ways, and some match on demographics without certainty (needs review),
so that what a job reports can be checked against what the file holds.
"""

import csv
import datetime as dt
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field

from abha.identifiers import abha_number_display, address_full
from abha.models import AbhaAccount, AbhaAddress

from ..enums import HiType
from .files import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

# Each kind of bad row, and the column the error report must name for it.
BAD_COLUMNS = {
    "abha_unknown": "abha_number",
    "hi_type_invalid": "hi_type",
    "reference_missing": "care_context_reference",
    "date_future": "visit_date",
    "bundle_not_json": "fhir_bundle",
    "mobile_invalid": "mobile",
}
BAD_KINDS = ["abha_unknown", "hi_type_invalid", "reference_missing", "date_future", "bundle_not_json", "mobile_invalid"]
DISPLAYS = {
    HiType.OP_CONSULTATION: "OPD visit",
    HiType.PRESCRIPTION: "OPD prescription",
    HiType.DIAGNOSTIC_REPORT: "Lab report",
    HiType.DISCHARGE_SUMMARY: "Discharge summary",
    HiType.IMMUNIZATION_RECORD: "Vaccination",
}


@dataclass
class FileFacts:
    rows: int = 0
    bad: Counter = field(default_factory=Counter)
    bad_rows: dict[int, str] = field(default_factory=dict)  # the file's row number (header = 1) -> the bad kind
    needs_review: int = 0

    @property
    def valid(self) -> int:
        return self.rows - sum(self.bad.values())

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "linked": self.valid - self.needs_review,
            "needs_review": self.needs_review,
            "bad": dict(self.bad),
        }


def _accounts(limit: int) -> list[tuple]:
    accounts = list(
        AbhaAccount.objects.active()
        .order_by("pk")
        .values_list("pk", "abha_number", "first_name", "last_name", "mobile", "gender", "year_of_birth")[:limit]
    )
    primary = dict(
        AbhaAddress.objects.filter(is_primary=True, account_id__in=[a[0] for a in accounts[:50000]]).values_list(
            "account_id", "local"
        )
    )
    return [(*account, primary.get(account[0], "")) for account in accounts]


def _unknown_abha_number(rng: random.Random, known: set[str]) -> str:
    from stdnum import luhn

    while True:
        body = "99" + "".join(rng.choice("0123456789") for _ in range(11))
        number = body + luhn.calc_check_digit(body)
        if number not in known:
            return number


def write_linking_file(
    out,
    *,
    rows: int,
    bad_fraction: float = 0.02,
    review_fraction: float = 0.0,
    reference_prefix: str | None = None,
    seed: int | None = None,
    today: dt.date | None = None,
) -> FileFacts:
    """Write a CSV batch to the text stream `out`; returns what it holds (rows, bad by kind, needs review)."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    accounts = _accounts(min(rows, 200000))
    if not accounts:
        raise ValueError("There are no active ABHA accounts to link records to: run seed_demo or generate_scale.")
    known = {account[1] for account in accounts}
    prefix = reference_prefix or f"B{secrets.token_hex(3).upper()}"
    hi_types = list(DISPLAYS)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    facts = FileFacts(rows=rows)
    bad_every = round(1 / bad_fraction) if bad_fraction > 0 else 0
    review_every = round(1 / review_fraction) if review_fraction > 0 else 0
    for index in range(rows):
        pk, number, first, last, mobile, gender, year, local = accounts[index % len(accounts)]
        hi_type = hi_types[index % len(hi_types)]
        visit = today - dt.timedelta(days=rng.randrange(1, 720))
        row = {
            "abha_number": "",
            "abha_address": "",
            "mobile": "",
            "name": "",
            "gender": "",
            "year_of_birth": "",
            "care_context_reference": f"{prefix}-{index:08d}",
            "care_context_display": f"{DISPLAYS[hi_type]}, {visit:%d %b %Y}",
            "visit_date": visit.isoformat(),
            "hi_type": hi_type,
            "record_id": "",
            "fhir_bundle": "",
            "pdf_path": "",
        }
        kind = index % 10
        if review_every and index % review_every == review_every // 2:
            # Same mobile, gender and year, but the name as a clerk might have typed it: a person decides.
            row.update(mobile=mobile, name=f"{first[:1]}. {last}X", gender=gender, year_of_birth=str(year))
            facts.needs_review += 1
        elif kind < 7:
            row["abha_number"] = abha_number_display(number) if kind % 2 else number
        elif kind < 9 and local:
            row["abha_address"] = address_full(local)
        else:
            row.update(mobile=mobile, name=f"{first} {last}".strip(), gender=gender, year_of_birth=str(year))
        if bad_every and index % bad_every == bad_every - 1:
            bad = BAD_KINDS[(index // bad_every) % len(BAD_KINDS)]
            if bad == "abha_unknown":
                row.update(abha_number=_unknown_abha_number(rng, known), abha_address="", mobile="", name="")
            elif bad == "hi_type_invalid":
                row["hi_type"] = "XRay"
            elif bad == "reference_missing":
                row["care_context_reference"] = ""
            elif bad == "date_future":
                row["visit_date"] = (today + dt.timedelta(days=3)).isoformat()
            elif bad == "bundle_not_json":
                row["fhir_bundle"] = '{"resourceType": "Bundle", "type": '
            elif bad == "mobile_invalid":
                row.update(
                    abha_number="", abha_address="", mobile="12345", name=first, gender=gender, year_of_birth=str(year)
                )
            if review_every and index % review_every == review_every // 2:
                facts.needs_review -= 1
            facts.bad[bad] += 1
            facts.bad_rows[index + 2] = bad
        writer.writerow([row[column] for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS])
    return facts
