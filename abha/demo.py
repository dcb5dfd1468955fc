"""Demo citizens: ~300 ABHA accounts across Gujarat's districts, plus one well-known citizen, Asha Patel.

The ABHAs are ABDM's: every demo citizen the portal does not have yet is first created in the local ABDM sandbox
(its helper endpoint POST /sandbox/v1/abha/accounts/bulk, one call, numbers minted by the sandbox as ABDM mints
them), and the portal keeps the numbers and addresses it answers. The citizens sign in through ABDM as anyone does
(`make run`: the OTP is in var/sms/outbox.jsonl). Deterministic names, places and mobiles (a Random seeded here);
idempotent: a citizen is found again by mobile, name and birth year, so a second run creates nothing.
"""

import random

from core.enums import Role
from core.models import District, State, User

from .enums import Channel, Gender
from .identifiers import abha_number_display
from .models import CURRENT_CONSENT_VERSION, AbhaAccount, AbhaAddress

GUJARAT = 24
DEMO_MOBILE = "9999999901"
DEMO_ADDRESS = "asha.patel"
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


def _rows(districts: list[int]):
    """(first, last, gender, year, month, district, mobile, channel) for every demo citizen."""
    rng = random.Random(99_999_999_01)
    weighted = [code for code in districts for _ in range(DISTRICT_WEIGHTS.get(code, 1))]
    yield ("Asha", "Patel", Gender.FEMALE, 1988, 5, 443, DEMO_MOBILE, Channel.SELF)
    for index in range(CITIZENS - 1):
        gender = Gender.FEMALE if rng.random() < 0.5 else Gender.MALE
        channel = rng.choices([Channel.SELF, Channel.ASSISTED, Channel.CAMP], weights=[6, 3, 1])[0]
        yield (
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


def _key(first, last, year, mobile) -> str:
    return f"{mobile}|{first}|{last}|{year}"


def _sandbox_accounts(rows, districts: dict) -> list[dict]:
    """Creates `rows` in the sandbox's ABHA service; its answers (ABHANumber, abhaNumber, preferredAbhaAddress),
    in order. DomainError when the sandbox is not there (seed_demo then skips the citizens, saying why)."""
    from facilities.demo import sandbox_seed  # the same helper call as the demo facilities' HFR entries

    entries = []
    for index, (first, last, gender, year, month, district, mobile, _channel) in enumerate(rows):
        entries.append(
            {
                "firstName": first,
                "lastName": last,
                "gender": gender,
                "yearOfBirth": year,
                **({"monthOfBirth": month} if month else {}),
                "mobile": mobile,
                "address": f"{index + 1} Main Road",
                "stateCode": str(GUJARAT),
                "stateName": "Gujarat",
                "districtCode": str(district),
                "districtName": districts[district].name,
                **({"abhaAddress": DEMO_ADDRESS} if mobile == DEMO_MOBILE and first == "Asha" else {}),
            }
        )
    return sandbox_seed("/sandbox/v1/abha/accounts/bulk", "accounts", entries)


def seed(*, out, users=None, facilities=None, **_) -> dict:
    gujarat = State.objects.get(lgd_code=GUJARAT)
    districts = {d.lgd_code: d for d in District.objects.filter(state=gujarat)}
    rows = list(_rows(sorted(districts)))
    keys = [_key(r[0], r[1], r[3], r[6]) for r in rows]
    known = AbhaAccount.objects.filter(mobile__in={r[6] for r in rows}).values_list(
        "mobile", "first_name", "last_name", "year_of_birth"
    )
    existing = {_key(first, last, year, mobile) for mobile, first, last, year in known}
    missing = [row for row, key in zip(rows, keys, strict=True) if key not in existing]
    verified = [f for f in (facilities or []) if f.status == "verified"]
    staff = (users or {}).get("facility_staff")
    if missing:
        answered = _sandbox_accounts(missing, districts)
        numbers = [entry["abhaNumber"] for entry in answered]
        new_users = []
        for number, (first, last, *_rest) in zip(numbers, missing, strict=True):
            user = User(username=number, first_name=first, last_name=last, role=Role.CITIZEN)
            user.set_unusable_password()
            new_users.append(user)
        User.objects.bulk_create(new_users, ignore_conflicts=True)
        user_ids = dict(User.objects.filter(username__in=numbers).values_list("username", "id"))
        accounts = []
        for index, (number, row) in enumerate(zip(numbers, missing, strict=True)):
            first, last, gender, year, month, district, mobile, channel = row
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
        ids = dict(AbhaAccount.objects.filter(abha_number__in=numbers).values_list("abha_number", "id"))
        addresses = []
        for entry in answered:
            preferred = entry["preferredAbhaAddress"].split("@", 1)[0].lower()
            account_id = ids[entry["abhaNumber"]]
            addresses.append(AbhaAddress(account_id=account_id, local=entry["abhaNumber"], is_primary=False))
            if preferred != entry["abhaNumber"]:
                addresses.append(AbhaAddress(account_id=account_id, local=preferred, is_primary=True))
            else:
                addresses[-1].is_primary = True
        AbhaAddress.objects.bulk_create(addresses, ignore_conflicts=True)
    demo = AbhaAccount.objects.filter(mobile=DEMO_MOBILE, first_name="Asha", last_name="Patel").first()
    out.write(
        f"  citizens: {len(rows)} ABHAs ({len(missing)} new, numbers from the ABDM sandbox); demo citizen "
        f"{demo.full_name}, mobile {DEMO_MOBILE}, ABHA {abha_number_display(demo.abha_number)}"
    )
    wanted = set(keys)
    mine = AbhaAccount.objects.filter(mobile__in={r[6] for r in rows}).order_by("id")
    return {"citizens": [a for a in mine if _key(a.first_name, a.last_name, a.year_of_birth, a.mobile) in wanted]}
