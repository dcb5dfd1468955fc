"""Demo citizens: ~300 ABHA accounts across Gujarat's districts, plus one well-known citizen.

Deterministic: numbers, names and places come from a Random seeded here (not from the
enrollment service, whose numbers are unguessable), so the demo citizen always has the same ABHA
number. Idempotent: rows are keyed by ABHA number and only missing ones are created, in bulk.
"""

import random

from stdnum import luhn

from core.enums import Role
from core.models import District, State, User

from .enums import Channel, Gender
from .identifiers import abha_number_display
from .models import CURRENT_CONSENT_VERSION, AbhaAccount, AbhaAddress

GUJARAT = 24
DEMO_MOBILE = "9999999901"
CITIZENS = 300
FIRST_NAMES = {
    Gender.FEMALE: ["Asha", "Kavita", "Nisha", "Hetal", "Priya", "Komal", "Jalpa", "Mittal", "Rekha", "Bhavna"],
    Gender.MALE: ["Ravi", "Mehul", "Jignesh", "Kiran", "Nilesh", "Hardik", "Bharat", "Dilip", "Suresh", "Paresh"],
}
LAST_NAMES = [
    "Patel",
    "Shah",
    "Desai",
    "Mehta",
    "Joshi",
    "Solanki",
    "Parmar",
    "Chauhan",
    "Rathod",
    "Vaghela",
    "Trivedi",
]
# Bigger districts get more citizens (rough population order; LGD codes).
DISTRICT_WEIGHTS = {438: 8, 459: 7, 461: 5, 457: 5, 443: 5, 439: 2, 447: 2, 448: 2, 451: 2, 449: 2, 442: 2, 453: 2}


def _number(rng: random.Random) -> str:
    body = "91" + "".join(str(rng.randrange(10)) for _ in range(11))
    return body + luhn.calc_check_digit(body)


def _rows(districts: list[int]):
    """(number, first, last, gender, year, month, district, mobile, channel) for every demo citizen."""
    rng = random.Random(99_999_999_01)
    weighted = [code for code in districts for _ in range(DISTRICT_WEIGHTS.get(code, 1))]
    yield (_number(rng), "Asha", "Patel", Gender.FEMALE, 1988, 5, 443, DEMO_MOBILE, Channel.SELF)
    for index in range(CITIZENS - 1):
        gender = Gender.FEMALE if rng.random() < 0.5 else Gender.MALE
        channel = rng.choices([Channel.SELF, Channel.ASSISTED, Channel.CAMP], weights=[6, 3, 1])[0]
        yield (
            _number(rng),
            rng.choice(FIRST_NAMES[gender]),
            rng.choice(LAST_NAMES),
            gender,
            rng.randrange(1940, 2024),
            rng.choice([None, rng.randrange(1, 13)]),
            rng.choice(weighted),
            # Families share phones: some mobiles hold 2 ABHAs.
            f"98{(index // 2 if index % 5 == 0 else index) + 25_000_000:08d}",
            channel,
        )


def seed(*, out, users=None, facilities=None, **_) -> dict:
    gujarat = State.objects.get(lgd_code=GUJARAT)
    districts = sorted(District.objects.filter(state=gujarat).values_list("lgd_code", flat=True))
    rows = list(_rows(districts))
    existing = set(
        AbhaAccount.objects.filter(abha_number__in=[r[0] for r in rows]).values_list("abha_number", flat=True)
    )
    missing = [r for r in rows if r[0] not in existing]
    verified = [f for f in (facilities or []) if f.status == "verified"]
    staff = (users or {}).get("facility_staff")
    if missing:
        new_users = []
        for number, first, last, *_rest in missing:
            user = User(username=number, first_name=first, last_name=last, role=Role.CITIZEN)
            user.set_unusable_password()
            new_users.append(user)
        User.objects.bulk_create(new_users, ignore_conflicts=True)
        user_ids = dict(User.objects.filter(username__in=[r[0] for r in missing]).values_list("username", "id"))
        accounts = []
        for index, (number, first, last, gender, year, month, district, mobile, channel) in enumerate(missing):
            facility = verified[index % len(verified)] if verified and channel != Channel.SELF else None
            accounts.append(
                AbhaAccount(
                    user_id=user_ids[number],
                    abha_number=number,
                    first_name=first,
                    last_name=last,
                    gender=gender,
                    year_of_birth=year,
                    month_of_birth=month,
                    mobile=mobile,
                    state=gujarat,
                    district_id=district,
                    address=f"{index + 1} Main Road",
                    consent_version=CURRENT_CONSENT_VERSION,
                    channel=channel if facility else Channel.SELF,
                    assisted_facility=facility,
                    assisted_by=staff if facility and staff else None,
                )
            )
        AbhaAccount.objects.bulk_create(accounts)
        ids = dict(AbhaAccount.objects.filter(abha_number__in=[r[0] for r in missing]).values_list("abha_number", "id"))
        addresses = [AbhaAddress(account_id=ids[r[0]], local=r[0], is_primary=r[7] != DEMO_MOBILE) for r in missing]
        if rows[0] in missing:
            addresses.append(AbhaAddress(account_id=ids[rows[0][0]], local="asha.patel", is_primary=True))
        AbhaAddress.objects.bulk_create(addresses, ignore_conflicts=True)
    demo = AbhaAccount.objects.get(abha_number=rows[0][0])
    out.write(
        f"  citizens: {len(rows)} ABHAs ({len(missing)} new); demo citizen {demo.full_name}, mobile {DEMO_MOBILE}, "
        f"ABHA {abha_number_display(demo.abha_number)}"
    )
    return {"citizens": list(AbhaAccount.objects.filter(abha_number__in=[r[0] for r in rows]).order_by("id"))}
