"""Bulk-create realistic synthetic data across Gujarat's districts, in proportion to their populations.

    manage.py generate_scale --abha 10000000 --facilities 20000

Uses PostgreSQL COPY (bulk_create on SQLite). Synthetic ABHA numbers start with 99, a prefix the
portal never issues, so they can never collide with real enrollments. The dashboard counters are
added from the generated rows in the same run, so they stay exact (check with rebuild_counters).
"""

import datetime
import random
import time
from collections import Counter
from itertools import accumulate

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum import luhn

from abha.enums import AccountStatus, Channel, Gender
from abha.models import AbhaAccount, AbhaAddress
from core import counters
from core.bulk import insert_rows, reserve_ids
from core.enums import CountMetric, Role
from core.models import District, PopulationFigure, User
from facilities.enums import FacilityStatus, FacilityType, Ownership
from facilities.models import Facility

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
        for name in ("records", "professionals", "tokens"):
            parser.add_argument(f"--{name}", type=int, default=0, help=f"{name} to add (not generated yet)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--chunk", type=int, default=200_000, help="rows per transaction")

    def handle(self, *args, **options):
        for name in ("records", "professionals", "tokens"):
            if options[name]:
                raise CommandError(f"--{name} is not generated yet: only --abha and --facilities are.")
        if min(options["abha"], options["facilities"]) < 0:
            raise CommandError("Counts must not be negative.")
        rng = random.Random(options["seed"])
        weights = _district_weights(settings.PORTAL_STATE_LGD)
        if options["facilities"]:
            self._timed(
                "facilities", options["facilities"], lambda: self._facilities(rng, weights, options["facilities"])
            )
        if options["abha"]:
            self._timed(
                "ABHA accounts", options["abha"], lambda: self._abha(rng, weights, options["abha"], options["chunk"])
            )

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
        verified = Counter()
        registered = Counter()
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
            if status == FacilityStatus.VERIFIED:
                verified[(day.date(), district.pk, pk)] += 1
        with transaction.atomic():
            insert_rows(Facility, rows)
            _add_counts(CountMetric.FACILITIES_REGISTERED, registered)
            _add_counts(CountMetric.FACILITIES_VERIFIED, verified)

    def _abha(self, rng, weights, count, chunk):
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
        while done < count:
            size = min(chunk, count - done)
            users, accounts, addresses = [], [], []
            created, active = Counter(), Counter()
            chunk_districts = rng.choices(districts, cum_weights=cumulative, k=size)
            for offset, district in zip(range(done, done + size), chunk_districts, strict=True):
                body = f"{SYNTHETIC_PREFIX}{(serial_start + offset) % 10**11:011d}"
                number = body + luhn.calc_check_digit(body)
                when = now - datetime.timedelta(seconds=rng.randrange(HISTORY_DAYS * 86400))
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
            with transaction.atomic():
                insert_rows(User, users)
                insert_rows(AbhaAccount, accounts)
                insert_rows(AbhaAddress, addresses)
                _add_counts(CountMetric.ABHA_CREATED, created)
                _add_counts(CountMetric.ABHA_ACTIVE, active)
            done += size
            self.stdout.write(f"  {done:,} / {count:,} ABHA accounts")


def _next_synthetic_serial() -> int:
    """Synthetic numbers are 99 + an 11-digit serial + Luhn digit; continue after the highest one."""
    highest = (
        AbhaAccount.objects.filter(abha_number__gte=SYNTHETIC_PREFIX + "0" * 12)
        .order_by("-abha_number")
        .values_list("abha_number", flat=True)
        .first()
    )
    return int(highest[2:13]) + 1 if highest else 0


def _add_counts(metric, grouped: Counter) -> None:
    counters.count_add_many(metric=metric, rows=[(day, d, f, value) for (day, d, f), value in grouped.items()])
