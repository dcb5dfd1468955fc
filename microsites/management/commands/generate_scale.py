"""Bulk-create realistic synthetic data across Gujarat's districts, in proportion to their populations.

    manage.py generate_scale --abha 10000000 --facilities 20000 --professionals 50000 \
        --records 5000000 --tokens 1000000

Uses PostgreSQL COPY. Synthetic ABHA numbers start with 99, a prefix the
portal never issues, so they can never collide with real enrollments. Facilities and ABHA accounts
are made first; professionals are spread over the districts; records (a care context per visit with
one or two health records, each a small valid FHIR document bundle) and Scan & Share tokens go to
verified facilities of a district drawn by population, for active ABHA accounts of that district
(a random sample of them). The dashboard counters are added from the generated rows in the same
transaction, so they stay exact (check with rebuild_counters).
"""

import datetime
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from stdnum import luhn

from abha.enums import AccountStatus, Channel, Gender
from abha.identifiers import abha_number_display
from abha.models import AbhaAccount, AbhaAddress
from core import counters
from core.bulk import JsonText, insert_rows, reserve_ids
from core.enums import FACILITY_STATUS_METRICS, CountMetric, Role
from core.models import District, PopulationFigure, User
from core.sms import mask_mobile
from facilities.enums import (
    Council,
    FacilityStatus,
    FacilityType,
    Ownership,
    ProfessionalCategory,
    RegistrationType,
    RegistryStatus,
    WorkStatus,
)
from facilities.models import Counter as OpdCounter
from facilities.models import Facility, Professional
from records.enums import HiType
from records.linking.documents import escaped, index_document
from records.models import CareContext, HealthRecord
from scanshare.enums import TokenStatus
from scanshare.models import ScanSequence, ScanToken

FIRST_NAMES = [
    "Aarav",
    "Vihaan",
    "Krish",
    "Dhruv",
    "Jay",
    "Parth",
    "Harsh",
    "Meet",
    "Dev",
    "Yash",
    "Asha",
    "Diya",
    "Riya",
    "Kavya",
    "Hetal",
    "Nisha",
    "Pooja",
    "Komal",
    "Jinal",
    "Mansi",
    "Bhavesh",
    "Rakesh",
    "Sonal",
]
LAST_NAMES = [
    "Patel",
    "Shah",
    "Desai",
    "Joshi",
    "Mehta",
    "Parmar",
    "Solanki",
    "Chauhan",
    "Rathod",
    "Vaghela",
    "Thakor",
    "Makwana",
    "Trivedi",
    "Bhatt",
    "Pandya",
    "Chaudhari",
    "Prajapati",
    "Modi",
    "Gohil",
    "Jadeja",
]
GENDERS = [Gender.MALE, Gender.FEMALE, Gender.FEMALE, Gender.MALE, Gender.OTHER, Gender.UNDISCLOSED]
SYNTHETIC_PREFIX = "99"
HISTORY_DAYS = 730
TOKEN_DAYS = 180  # Scan & Share is newer: tokens over the last six months
PATIENT_SAMPLE = 200_000  # active accounts drawn (by district) as the patients of records and tokens
SCALE_COUNTER = "SCALE"  # the OPD counter code synthetic tokens are issued at (one per facility)
# (hiType, care context display) of a visit; a quarter of visits also carry a prescription.
VISITS = [
    (HiType.OP_CONSULTATION, "OPD consultation"),
    (HiType.OP_CONSULTATION, "Follow-up visit"),
    (HiType.DIAGNOSTIC_REPORT, "Blood test report"),
    (HiType.DISCHARGE_SUMMARY, "Inpatient admission"),
    (HiType.IMMUNIZATION_RECORD, "Immunisation"),
]
# category, sub-category, council, share of professionals
PROFESSIONAL_KINDS = [
    (ProfessionalCategory.DOCTOR, "modern", Council.GUJARAT_MEDICAL, 0.35),
    (ProfessionalCategory.DOCTOR, "ayurveda", Council.GUJARAT_AYUSH, 0.05),
    (ProfessionalCategory.DOCTOR, "dentistry", Council.GUJARAT_DENTAL, 0.05),
    (ProfessionalCategory.NURSE, "rn", Council.GUJARAT_NURSING, 0.40),
    (ProfessionalCategory.PHARMACIST, "", Council.GUJARAT_PHARMACY, 0.15),
]


def _district_weights(state_lgd: int) -> list[tuple[District, float]]:
    districts = list(District.objects.filter(state_id=state_lgd).order_by("lgd_code"))
    figures = dict(
        PopulationFigure.objects.filter(district__in=districts)
        .order_by("year")
        .values_list("district_id", "population")
    )
    known = [figures[d.pk] for d in districts if d.pk in figures]
    fallback = sorted(known)[len(known) // 2] if known else 1  # districts without a figure: the median
    return [(d, float(figures.get(d.pk, fallback))) for d in districts]


class Command(BaseCommand):
    help = "Generate synthetic ABHA accounts and facilities at scale (PostgreSQL COPY)."

    def add_arguments(self, parser):
        parser.add_argument("--abha", type=int, default=0, help="ABHA accounts to add")
        parser.add_argument("--facilities", type=int, default=0, help="facilities to add")
        parser.add_argument("--professionals", type=int, default=0, help="professionals to add (85%% verified)")
        parser.add_argument(
            "--records", type=int, default=0, help="health records to link at verified facilities (needs ABHA accounts)"
        )
        parser.add_argument(
            "--tokens", type=int, default=0, help="Scan & Share tokens at verified facilities (needs ABHA accounts)"
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--chunk", type=int, default=200_000, help="rows per transaction")

    def handle(self, *args, **options):
        names = ("abha", "facilities", "professionals", "records", "tokens")
        if min(options[name] for name in names) < 0:
            raise CommandError("Counts must not be negative.")
        rng = random.Random(options["seed"])
        weights = _district_weights(settings.PORTAL_STATE_LGD)
        chunk = options["chunk"]
        if options["facilities"]:
            self._timed(
                "facilities", options["facilities"], lambda: self._facilities(rng, weights, options["facilities"])
            )
        if options["abha"]:
            self._timed("ABHA accounts", options["abha"], lambda: self._abha(rng, weights, options["abha"], chunk))
        if options["professionals"]:
            count = options["professionals"]
            self._timed("professionals", count, lambda: self._professionals(rng, weights, count, chunk))
        if options["records"] or options["tokens"]:
            facilities = _verified_facilities()
            if not facilities:
                raise CommandError("Records and tokens need verified facilities: add some with --facilities.")
            patients = _patient_sample(rng, PATIENT_SAMPLE)
            if not patients:
                raise CommandError("Records and tokens need active ABHA accounts: add some with --abha.")
            places = _Places(rng, weights, facilities, patients)
            if options["records"]:
                count = options["records"]
                self._timed("health records", count, lambda: self._records(rng, places, count, chunk))
            if options["tokens"]:
                count = options["tokens"]
                self._timed("Scan & Share tokens", count, lambda: self._tokens(rng, places, count, chunk))

    def _timed(self, label, count, work):
        started = time.perf_counter()
        work()
        elapsed = time.perf_counter() - started
        self.stdout.write(f"{label}: {count:,} in {elapsed:.1f} s ({count / elapsed:,.0f} rows/s)")

    def _facilities(self, rng, weights, count):
        districts = [d for d, _ in weights]
        shares = [w for _, w in weights]
        start = reserve_ids(Facility, count)
        state = settings.PORTAL_STATE_LGD
        now = timezone.now()
        kinds = [
            FacilityType.CLINIC,
            FacilityType.CLINIC,
            FacilityType.HOSPITAL,
            FacilityType.NURSING_HOME,
            FacilityType.PHC,
            FacilityType.DIAGNOSTIC_LAB,
            FacilityType.PHARMACY,
            FacilityType.SUB_CENTRE,
        ]
        registered = Counter()
        by_status = {status: Counter() for status in (FacilityStatus.VERIFIED, FacilityStatus.SUBMITTED)}
        rows = []
        for offset in range(count):
            district = rng.choices(districts, shares)[0]
            kind = kinds[offset % len(kinds)]
            status = FacilityStatus.VERIFIED if rng.random() < 0.8 else FacilityStatus.SUBMITTED
            day = (now - datetime.timedelta(days=rng.randrange(HISTORY_DAYS))).astimezone()
            pk = start + offset
            rows.append(
                {
                    "id": pk,
                    "name": f"{kind.label} {district.name} {pk}",
                    "status": status,
                    "facility_id": f"IN{state:02d}{90_000_000 + pk % 10_000_000:08d}",
                    "ownership": Ownership.GOVERNMENT
                    if kind in (FacilityType.PHC, FacilityType.SUB_CENTRE)
                    else Ownership.PRIVATE,
                    "facility_type": kind,
                    "state_id": state,
                    "district_id": district.pk,
                    "pincode": f"{360000 + district.pk % 100 * 100 + offset % 100:06d}",
                    "submitted_at": day,
                    "verified_at": day if status == FacilityStatus.VERIFIED else None,
                    "created_at": day,
                    "updated_at": day,
                }
            )
            registered[(day.date(), district.pk, pk)] += 1
            by_status[status][(day.date(), district.pk, pk)] += 1
        with transaction.atomic():
            insert_rows(Facility, rows)
            _add_counts(CountMetric.FACILITIES_REGISTERED, registered)
            for status, tally in by_status.items():  # FACILITIES_VERIFIED and FACILITIES_SUBMITTED
                _add_counts(FACILITY_STATUS_METRICS[status], tally)

    def _abha(self, rng, weights, count, chunk, *, days=HISTORY_DAYS):
        districts = [d for d, _ in weights]
        shares = [w for _, w in weights]
        user_start = reserve_ids(User, count)
        account_start = reserve_ids(AbhaAccount, count)
        address_start = reserve_ids(AbhaAddress, count)
        serial_start = _next_synthetic_serial()
        now = timezone.now()
        suffix_state = settings.PORTAL_STATE_LGD
        done = 0
        cumulative = list(accumulate(shares))
        # Asia/Kolkata has no daylight saving: one offset turns every timestamp into its local day.
        local_offset = timezone.localtime(now).utcoffset()
        writer = _ChunkWriter()
        while done < count:
            size = min(chunk, count - done)
            users, accounts, addresses = [], [], []
            created, active = Counter(), Counter()
            chunk_districts = rng.choices(districts, cum_weights=cumulative, k=size)
            for offset, district in zip(range(done, done + size), chunk_districts, strict=True):
                body = f"{SYNTHETIC_PREFIX}{(serial_start + offset) % 10**11:011d}"
                number = body + luhn.calc_check_digit(body)
                when = now - datetime.timedelta(seconds=rng.randrange(days * 86400))
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                status = AccountStatus.DEACTIVATED if rng.random() < 0.01 else AccountStatus.ACTIVE
                users.append(
                    {
                        "id": user_start + offset,
                        "username": number,
                        "password": "!",
                        "role": Role.CITIZEN,
                        "first_name": first,
                        "last_name": last,
                        "date_joined": when,
                        "is_active": True,
                    }
                )
                accounts.append(
                    {
                        "id": account_start + offset,
                        "user_id": user_start + offset,
                        "abha_number": number,
                        "status": status,
                        "first_name": first,
                        "last_name": last,
                        "gender": rng.choice(GENDERS),
                        "year_of_birth": rng.randrange(1940, 2024),
                        "mobile": f"{rng.randrange(6, 10)}{rng.randrange(10**9):09d}",
                        "state_id": suffix_state,
                        "district_id": district.pk,
                        "consent_version": "synthetic",
                        "channel": Channel.SELF if rng.random() < 0.6 else Channel.CAMP,
                        "created_at": when,
                        "updated_at": when,
                        "deactivated_at": when if status == AccountStatus.DEACTIVATED else None,
                    }
                )
                addresses.append(
                    {
                        "id": address_start + offset,
                        "account_id": account_start + offset,
                        "local": number,
                        "is_primary": True,
                        "created_at": when,
                        "updated_at": when,
                    }
                )
                day = (when + local_offset).date()
                created[(day, district.pk, 0)] += 1
                if status == AccountStatus.ACTIVE:
                    active[(day, district.pk, 0)] += 1
            writer.submit(_write_abha_chunk, users, accounts, addresses, created, active)
            done += size
            self.stdout.write(f"  {done:,} / {count:,} ABHA accounts")
        writer.finish()

    def _professionals(self, rng, weights, count, chunk):
        districts = [d for d, _ in weights]
        cumulative = list(accumulate(w for _, w in weights))
        kinds = [kind[:3] for kind in PROFESSIONAL_KINDS]
        kind_weights = [kind[3] for kind in PROFESSIONAL_KINDS]
        start = reserve_ids(Professional, count)
        now = timezone.now()
        local_offset = timezone.localtime(now).utcoffset()
        state = settings.PORTAL_STATE_LGD
        done = 0
        while done < count:
            size = min(chunk, count - done)
            rows, verified = [], Counter()
            chunk_districts = rng.choices(districts, cum_weights=cumulative, k=size)
            for offset, district in zip(range(done, done + size), chunk_districts, strict=True):
                pk = start + offset
                category, sub_category, council = rng.choices(kinds, kind_weights)[0]
                when = now - datetime.timedelta(seconds=rng.randrange(HISTORY_DAYS * 86400))
                status = RegistryStatus.VERIFIED if rng.random() < 0.85 else RegistryStatus.SUBMITTED
                title = "Dr. " if category == ProfessionalCategory.DOCTOR else ""
                rows.append(
                    {
                        "id": pk,
                        # 71 + 99 + the row's id: a range the portal's random HPR IDs would have to hit exactly.
                        "hpr_id": f"7199{pk:010d}" if status == RegistryStatus.VERIFIED else None,
                        "status": status,
                        "name": f"{title}{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                        "category": category,
                        "sub_category": sub_category,
                        "council": council,
                        "registration_number": f"SCALE-{pk}",
                        "registration_type": RegistrationType.PERMANENT,
                        "registration_date": (when - datetime.timedelta(days=rng.randrange(30, 9000))).date(),
                        "work_status": rng.choice(list(WorkStatus)),
                        "state_id": state,
                        "district_id": district.pk,
                        "submitted_at": when,
                        "verified_at": when if status == RegistryStatus.VERIFIED else None,
                        "created_at": when,
                        "updated_at": when,
                    }
                )
                if status == RegistryStatus.VERIFIED:
                    verified[((when + local_offset).date(), district.pk, 0)] += 1
            with transaction.atomic():
                insert_rows(Professional, rows)
                _add_counts(CountMetric.PROFESSIONALS_VERIFIED, verified)
            done += size

    def _records(self, rng, places, count, chunk, *, days=HISTORY_DAYS, ago=0):
        """Visits (care contexts) of one or two records each, linked to an ABHA, until `count` records, over the
        `days` days that end `ago` days before today."""
        context_start = reserve_ids(CareContext, count)
        record_start = reserve_ids(HealthRecord, count)
        now = timezone.now()
        local_offset = timezone.localtime(now).utcoffset()
        custodians = {}
        done = contexts = 0
        while done < count:
            size = min(chunk, count - done)
            context_rows, record_rows, linked = [], [], Counter()
            made = 0
            while made < size:
                district, facility, patient = places.draw()
                when = now - datetime.timedelta(days=ago, seconds=rng.randrange(days * 86400))
                visit = (when + local_offset).date()
                hi_type, display = rng.choice(VISITS)
                hi_types = [hi_type]
                if made + 1 < size and rng.random() < 0.25:
                    hi_types.append(HiType.PRESCRIPTION)
                context_id = context_start + contexts
                contexts += 1
                context_rows.append(
                    {
                        "id": context_id,
                        "facility_id": facility[0],
                        "patient_id": patient[0],
                        "reference": f"SCALE-{context_id}",
                        "display": display,
                        "date": visit,
                        "created_at": when,
                        "updated_at": when,
                    }
                )
                if facility[0] not in custodians:
                    custodians[facility[0]] = escaped(f"{facility[1]} ({facility[2]})")
                for kind in hi_types:
                    record_id = record_start + done + made
                    bundle, summary, sha = index_document(
                        bundle_id=f"{record_id:032x}",
                        hi_type=kind,
                        title=display,
                        date=visit.isoformat(),
                        patient_abha=abha_number_display(patient[1]),
                        patient_name=f"{patient[2]} {patient[3]}",
                        custodian=custodians[facility[0]],
                        facility_id=facility[2],
                    )
                    record_rows.append(
                        {
                            "id": record_id,
                            "care_context_id": context_id,
                            "facility_id": facility[0],
                            "patient_id": patient[0],
                            "hi_type": kind,
                            "record_key": kind,
                            "record_date": visit,
                            "version": 1,
                            "is_current": True,
                            "title": display,
                            "bundle": JsonText(bundle),
                            "summary": JsonText(summary),
                            "bundle_sha256": sha,
                            "created_at": when,
                            "updated_at": when,
                        }
                    )
                    linked[(visit, district, facility[0])] += 1
                    made += 1
            with transaction.atomic():
                insert_rows(CareContext, context_rows)
                insert_rows(HealthRecord, record_rows)
                _add_counts(CountMetric.RECORDS_LINKED, linked)
            done += size
            self.stdout.write(f"  {done:,} / {count:,} health records")

    def _tokens(self, rng, places, count, chunk, *, days=TOKEN_DAYS):
        """Tokens at each facility's SCALE counter, numbered on from its ScanSequence so real shares go on after."""
        counter_ids = _scale_counters(places.facility_ids())
        today = timezone.localdate()
        since = today - datetime.timedelta(days=days - 1)
        last = {
            (counter_id, day): value
            for counter_id, day, value in ScanSequence.objects.filter(
                counter_id__in=list(counter_ids.values()), day__gte=since
            ).values_list("counter_id", "day", "last")
        }
        known = set(last)
        start = reserve_ids(ScanToken, count)
        validity = datetime.timedelta(minutes=settings.SCAN_TOKEN_VALIDITY_MINUTES)
        tz = timezone.get_current_timezone()
        done = 0
        while done < count:
            size = min(chunk, count - done)
            rows, issued = [], Counter()
            for offset in range(done, done + size):
                district, facility, patient = places.draw()
                day = today - datetime.timedelta(days=min(rng.randrange(days), rng.randrange(days)))
                counter_id = counter_ids[facility[0]]
                number = last.get((counter_id, day), 0) + 1
                last[(counter_id, day)] = number
                opened = datetime.datetime.combine(day, datetime.time(9), tzinfo=tz)
                issued_at = opened + datetime.timedelta(seconds=rng.randrange(8 * 3600))
                if day == today:
                    status = TokenStatus.WAITING
                else:
                    status = rng.choices([TokenStatus.DONE, TokenStatus.NO_SHOW, TokenStatus.EXPIRED], [85, 10, 5])[0]
                closed = issued_at + datetime.timedelta(minutes=rng.randrange(5, 90)) if day != today else None
                number_display = abha_number_display(patient[1])
                rows.append(
                    {
                        "id": start + offset,
                        "facility_id": facility[0],
                        "counter_id": counter_id,
                        "day": day,
                        "number": number,
                        "patient_id": patient[0],
                        "profile": {
                            "name": f"{patient[2]} {patient[3]}",
                            "abha_number": number_display,
                            "abha_address": "",
                            "gender": patient[4],
                            "year_of_birth": patient[5],
                            "age": day.year - patient[5],
                            "mobile": mask_mobile(patient[6]),
                            "address": "",
                        },
                        "status": status,
                        "issued_at": issued_at,
                        "valid_until": issued_at + validity,
                        "called_at": closed if status == TokenStatus.DONE else None,
                        "closed_at": closed,
                        "created_at": issued_at,
                        "updated_at": closed or issued_at,
                    }
                )
                issued[(day, district, facility[0])] += 1
            with transaction.atomic():
                insert_rows(ScanToken, rows)
                _add_counts(CountMetric.SCAN_TOKENS, issued)
            done += size
            self.stdout.write(f"  {done:,} / {count:,} tokens")
        # The counters' sequences end at the last number used, so a real share there takes the next one.
        new = [(key, value) for key, value in last.items() if key not in known]
        first = reserve_ids(ScanSequence, len(new)) if new else 0
        with transaction.atomic():
            insert_rows(
                ScanSequence,
                ({"id": first + i, "counter_id": c, "day": d, "last": n} for i, ((c, d), n) in enumerate(new)),
            )
            for (counter_id, day), value in last.items():
                if (counter_id, day) in known:
                    ScanSequence.objects.filter(counter_id=counter_id, day=day).update(last=value)


class _Places:
    """Draws (district, verified facility, patient) triples: a district by population, one of its verified
    facilities (any, where it has none), one of its sampled active patients (any, where none was sampled)."""

    def __init__(self, rng, weights, facilities, patients):
        self.rng = rng
        by_district, patients_by_district = {}, {}
        for facility in facilities:
            by_district.setdefault(facility[3], []).append(facility)
        for patient in patients:
            patients_by_district.setdefault(patient[7], []).append(patient)
        self.districts = [d.pk for d, _ in weights]
        self.cumulative = list(accumulate(w for _, w in weights))
        self.facilities, self.patients = facilities, patients
        self.by_district, self.patients_by_district = by_district, patients_by_district

    def draw(self):
        district = self.rng.choices(self.districts, cum_weights=self.cumulative)[0]
        facility = self.rng.choice(self.by_district.get(district) or self.facilities)
        patient = self.rng.choice(self.patients_by_district.get(district) or self.patients)
        return facility[3], facility, patient

    def facility_ids(self):
        return [facility[0] for facility in self.facilities]


def _verified_facilities() -> list[tuple]:
    """(pk, name, facility ID, district) of every verified facility (tens of thousands of rows)."""
    return list(
        Facility.objects.filter(status=FacilityStatus.VERIFIED, district__isnull=False)
        .order_by("pk")
        .values_list("pk", "name", "facility_id", "district_id")
    )


def _patient_sample(rng, size: int) -> list[tuple]:
    """Up to `size` active accounts: (pk, number, first, last, gender, year of birth, mobile, district).

    A block sample (TABLESAMPLE SYSTEM, sized from the active-accounts counter, so the accounts table is never
    counted) when there are many more accounts than wanted; all of them in random order when there are few.
    """
    columns = ("pk", "abha_number", "first_name", "last_name", "gender", "year_of_birth", "mobile", "district_id")
    accounts = AbhaAccount.objects.filter(status=AccountStatus.ACTIVE, district__isnull=False)
    active = counters.total(CountMetric.ABHA_ACTIVE) or size
    if active > 2 * size:
        percent = min(100.0, 150.0 * size / active)
        table = AbhaAccount._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, abha_number, first_name, last_name, gender, year_of_birth, mobile, district_id "  # noqa: S608 - table from model meta
                f"FROM {table} TABLESAMPLE SYSTEM (%s) REPEATABLE (%s) "
                "WHERE status = %s AND district_id IS NOT NULL LIMIT %s",
                [percent, rng.randrange(2**31), AccountStatus.ACTIVE, size],
            )
            return cursor.fetchall()
    return list(accounts.order_by("?").values_list(*columns)[:size])


def _scale_counters(facility_ids: list[int]) -> dict[int, int]:
    """Facility pk -> id of its SCALE OPD counter, made where missing."""
    existing = dict(
        OpdCounter.objects.filter(code=SCALE_COUNTER, facility_id__in=facility_ids).values_list("facility_id", "pk")
    )
    missing = [pk for pk in facility_ids if pk not in existing]
    if missing:
        start = reserve_ids(OpdCounter, len(missing))
        with transaction.atomic():
            insert_rows(
                OpdCounter,
                (
                    {"id": start + i, "facility_id": pk, "code": SCALE_COUNTER, "name": "OPD (synthetic)"}
                    for i, pk in enumerate(missing)
                ),
            )
        existing.update({pk: start + i for i, pk in enumerate(missing)})
    return existing


def _next_synthetic_serial() -> int:
    """Synthetic numbers are 99 + an 11-digit serial + Luhn digit; continue after the highest one."""
    highest = (
        AbhaAccount.objects.filter(abha_number__gte=SYNTHETIC_PREFIX + "0" * 12)
        .order_by("-abha_number")
        .values_list("abha_number", flat=True)
        .first()
    )
    return int(highest[2:13]) + 1 if highest else 0


def _write_abha_chunk(users, accounts, addresses, created, active) -> None:
    with transaction.atomic():
        insert_rows(User, users)
        insert_rows(AbhaAccount, accounts)
        insert_rows(AbhaAddress, addresses)
        _add_counts(CountMetric.ABHA_CREATED, created)
        _add_counts(CountMetric.ABHA_ACTIVE, active)


class _ChunkWriter:
    """Writes chunks (one transaction each) on WRITERS threads, each with its own database connection, while the
    caller makes the next one. Making rows is Python; writing them is PostgreSQL (COPY and the indexes), one backend
    per connection: with two writers both cores stay busy (1 crore ABHA accounts: one writer 9,485 rows/s, two
    13,655 rows/s, see bench/README.md). Chunks touch the same counter rows; count_add_many
    upserts them in key order, so two writers wait for each other there but never deadlock.

    Inside a transaction (a test's), chunks are written inline: every row must land on the caller's connection.
    """

    WRITERS = 2

    def __init__(self):
        self._pool = None if connection.in_atomic_block else ThreadPoolExecutor(max_workers=self.WRITERS)
        self._pending = []

    def submit(self, write, *args) -> None:
        if self._pool is None:
            write(*args)
            return
        if len(self._pending) >= self.WRITERS:
            self._pending.pop(0).result()  # a failed chunk stops the run here, with its error
        self._pending.append(self._pool.submit(write, *args))

    def finish(self) -> None:
        if self._pool is None:
            return
        try:
            while self._pending:
                self._pending.pop(0).result()
        finally:
            # One close per writer thread (the barrier holds each thread until all have taken one).
            barrier = threading.Barrier(self.WRITERS)
            closes = [self._pool.submit(_close_connection, barrier) for _ in range(self.WRITERS)]
            for close in closes:
                close.result()
            self._pool.shutdown()


def _close_connection(barrier) -> None:
    connection.close()  # run on a writer's thread: its own connection (`connection` is per thread)
    barrier.wait(timeout=60)


def _add_counts(metric, grouped: Counter) -> None:
    counters.count_add_many(metric=metric, rows=[(day, d, f, value) for (day, d, f), value in grouped.items()])
