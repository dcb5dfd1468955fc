"""IDs the sandbox mints: random (never sequential, never guessable from the last one), shaped as ABDM's."""

import secrets

from .models import HfrFacility, HprProfessional

_MAX_TRIES = 50


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:  # the digit next to the check digit is doubled
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def _random_digits(count: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(count))


def mint_facility_id(state_lgd_code: str) -> str:
    """`IN` + the 2-digit LGD state code + 8 random digits, not yet on the registry."""
    state = f"{int(state_lgd_code):02d}" if str(state_lgd_code).isdigit() else "00"
    for _ in range(_MAX_TRIES):
        candidate = f"IN{state[-2:]}{_random_digits(8)}"
        if not HfrFacility.objects.filter(facility_id=candidate).exists():
            return candidate
    raise RuntimeError("could not mint a free facility ID")


def format_hpr_number(digits: str) -> str:
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:10]}-{digits[10:14]}"


def mint_hpr_id_number() -> str:
    """`71-NNNN-NNNN-NNNN`: 71, 11 random digits and a Luhn check digit (as real HPR numbers look)."""
    for _ in range(_MAX_TRIES):
        body = "71" + _random_digits(11)
        candidate = format_hpr_number(body + luhn_check_digit(body))
        if not HprProfessional.objects.filter(hpr_id_number=candidate).exists():
            return candidate
    raise RuntimeError("could not mint a free HPR ID number")
