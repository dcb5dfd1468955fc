"""A scaled-down Gujarat for `make run`: 1/DEMO_SCALE of the state's figures of April 2025 (docs: ABDM.md §10).

4.77 crore ABHA numbers (70 % of the people), 2.26 crore records linked, 17,800 facilities and 42,000 professionals,
divided by the scale (100: 4.77 lakh ABHA numbers). Rows are made by generate_scale's COPY writers, which add the
dashboard counters in the same transaction, so `rebuild_counters` finds no drift:

- a population figure per district for this year (the scaled denominator, Census 2011 shares): coverage reads ~70 %;
- ABHA accounts created over the past year, in proportion to the districts' populations;
- facilities and professionals (registered over two years), up to the scaled totals;
- records linked over the past year; in the four microsite districts from their microsite's start (Bhavnagar's
  agency linked twice its share, most of it in its first month: it reached the linking target first);
- Scan & Share tokens at the government medical-college hospitals over the last six weeks.

Seeded once: the population figures, written last, name the scale; a restart sees them and makes nothing.
"""

import datetime
import random

from django.conf import settings
from django.utils import timezone

from core import counters
from core.enums import FACILITY_STATUS_METRICS, CountMetric
from core.models import District, PopulationFigure
from facilities.enums import FacilityStatus, FacilityType, Ownership, Region, ServiceType, SystemOfMedicine
from facilities.models import Counter, Facility, Professional
from records.models import HealthRecord

from .management.commands import generate_scale

ABHA = 47_700_000
COVERAGE = 0.70
POPULATION = round(ABHA / COVERAGE)  # 6.81 crore: the denominator behind "4.77 crore = 70 %"
RECORDS = 22_600_000
RECORDS_RACE = 200_000  # "Bhavnagar was the first to link 2 lakh+ records"
FACILITIES = 17_800
PROFESSIONALS = 42_000
# Not published for Gujarat: an assumed 6,000 Scan & Share tokens a day at its medical colleges (about 5 % of the
# national 1.3 lakh a day of mid-2024), over the last six weeks.
TOKENS_PER_DAY = 6_000
TOKEN_DAYS = 42
ABHA_DAYS = 365
SOURCE_PREFIX = "Demo: Gujarat at 1/"
# Government medical-college hospitals besides the two of facilities.demo (Bhavnagar, Ahmedabad): name, district.
MEDICAL_COLLEGES = [
    ("New Civil Hospital Surat", 459),
    ("PDU Government Medical College Hospital Rajkot", 457),
    ("SSG Hospital Vadodara", 461),
    ("GG Hospital Jamnagar", 448),
]
CHAMPION_BOOST = 2  # Bhavnagar's agency linked twice its population share of records
CHAMPION_BURST = 0.3  # ... this part of it in its first 30 days


def seeded_scale() -> int | None:
    """The scale the demo was seeded at (from its population figures' source), or None when not seeded."""
    source = PopulationFigure.objects.filter(source__startswith=SOURCE_PREFIX).values_list("source", flat=True).first()
    return int(source.removeprefix(SOURCE_PREFIX).split()[0]) if source else None


def seed(*, scale: int, out, campaigns: dict[int, datetime.date], champion: int) -> None:
    """Add 1/scale of Gujarat (see the module docstring), each table with its counters in the same transaction.

    `campaigns`: district LGD -> the day its microsite started linking records; `champion`: the district whose
    microsite linked first. Tops facilities, professionals and records up to the scaled totals (the named demo
    rows count); adds ABHA accounts and tokens in full.
    """
    rng = random.Random(scale)
    command = generate_scale.Command(stdout=out)
    chunk = 100_000
    today = timezone.localdate()
    weights = generate_scale._district_weights(settings.PORTAL_STATE_LGD)
    colleges = _medical_colleges()
    facilities = max(0, FACILITIES // scale - Facility.objects.count())
    professionals = max(0, PROFESSIONALS // scale - Professional.objects.count())
    command._timed("facilities", facilities, lambda: command._facilities(rng, weights, facilities))
    command._timed("professionals", professionals, lambda: command._professionals(rng, weights, professionals, chunk))
    accounts = ABHA // scale
    command._timed("ABHA accounts", accounts, lambda: command._abha(rng, weights, accounts, chunk, days=ABHA_DAYS))
    patients = generate_scale._patient_sample(rng, generate_scale.PATIENT_SAMPLE)
    verified = generate_scale._verified_facilities()
    records = max(0, RECORDS // scale - HealthRecord.objects.filter(patient__isnull=False, version=1).count())
    command._timed(
        "health records",
        records,
        lambda: _records(
            command, rng, weights, verified, patients, records, campaigns=campaigns, champion=champion, today=today
        ),
    )
    at_colleges = [f for f in verified if f[0] in colleges]
    tokens = TOKENS_PER_DAY * TOKEN_DAYS // scale
    places = generate_scale._Places(rng, weights, at_colleges, patients)
    command._timed("Scan & Share tokens", tokens, lambda: command._tokens(rng, places, tokens, chunk, days=TOKEN_DAYS))
    _populations(scale, weights, today.year)


def _records(command, rng, weights, facilities, patients, count, *, campaigns, champion, today):
    """`count` records: in each campaign district its share (the champion's times CHAMPION_BOOST, part of it in a
    first month's burst) from its microsite's start; the rest over the past year, in proportion to population."""
    chunk = 100_000
    boosted = {d.pk: w * (CHAMPION_BOOST if d.pk == champion else 1) for d, w in weights}
    total = sum(boosted.values())
    left = count
    for district, _ in weights:
        if district.pk not in campaigns:
            continue
        share = round(count * boosted[district.pk] / total)
        left -= share
        days = max(1, (today - campaigns[district.pk]).days)
        places = generate_scale._Places(rng, [(district, 1.0)], facilities, patients)
        if district.pk == champion:
            burst = round(share * CHAMPION_BURST)
            command._records(rng, places, burst, chunk, days=min(30, days), ago=max(0, days - 30))
            share -= burst
        command._records(rng, places, share, chunk, days=days)
    others = [(d, w) for d, w in weights if d.pk not in campaigns]
    command._records(rng, generate_scale._Places(rng, others, facilities, patients), left, chunk, days=ABHA_DAYS)


def _medical_colleges() -> set[int]:
    """The pks of the state's verified government medical-college hospitals, adding MEDICAL_COLLEGES (verified two
    years ago, with a General OPD counter) and counting them."""
    districts = {d.pk: d for d in District.objects.filter(pk__in=[code for _, code in MEDICAL_COLLEGES])}
    since = timezone.now() - datetime.timedelta(days=730)
    for number, (name, code) in enumerate(MEDICAL_COLLEGES, start=1):
        facility, _ = Facility.objects.get_or_create(
            name=name,
            district=districts[code],
            defaults={
                "state_id": settings.PORTAL_STATE_LGD,
                "facility_type": FacilityType.MEDICAL_COLLEGE,
                "ownership": Ownership.GOVERNMENT,
                "status": FacilityStatus.VERIFIED,
                "beds": 1000,
                "pincode": f"{360000 + code % 100 * 100 + 50 + number:06d}",
                "address": f"{districts[code].name}, Gujarat",
                "facility_id": f"IN{settings.PORTAL_STATE_LGD}{80000000 + number * 7919:08d}",
                "systems_of_medicine": [SystemOfMedicine.MODERN],
                "service_type": ServiceType.OPD_IPD,
                "region": Region.URBAN,
                "timings": "Mon-Sat 09:00-17:00",
                "submitted_at": since,
                "verified_at": since,
            },
        )
        Counter.objects.get_or_create(facility=facility, code="OPD1", defaults={"name": "General OPD"})
    counters.rebuild([CountMetric.FACILITIES_REGISTERED, *FACILITY_STATUS_METRICS.values()], fix=True)
    return set(
        Facility.objects.filter(
            facility_type=FacilityType.MEDICAL_COLLEGE, status=FacilityStatus.VERIFIED, district__isnull=False
        ).values_list("pk", flat=True)
    )


def _populations(scale: int, weights, year: int) -> None:
    """This year's population figure of every district: POPULATION / scale in proportion to the weights (Census
    2011; the districts formed in 2013 at the median, as generate_scale draws them)."""
    total = sum(w for _, w in weights)
    source = f"{SOURCE_PREFIX}{scale} of the state's April 2025 figures (seed_demo), Census 2011 shares"
    for district, weight in weights:
        PopulationFigure.objects.update_or_create(
            district=district,
            year=year,
            defaults={
                "state_id": district.state_id,
                "population": max(1, round(POPULATION / scale * weight / total)),
                "source": source,
            },
        )
