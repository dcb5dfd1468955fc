"""Integers read from query strings, range-checked: a field error, never an OverflowError or a ValueError.

`str.isdigit()` accepts "²" (which `int()` refuses) and any length of digits (which no column holds), so each
integer parameter goes through `query_int`, with the range of the column it filters.
"""

from rest_framework import exceptions

INT4_MAX = 2**31 - 1  # PostgreSQL integer: LGD codes, counts, page numbers


def query_int(params, name: str, *, message, minimum: int = 0, maximum: int = INT4_MAX) -> int | None:
    """The integer in `params[name]`, or None when absent or empty; `message` (translated) names the field's rule."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    digits = raw[1:] if raw.startswith("-") else raw
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        raise exceptions.ValidationError({name: [message]})
    value = int(raw)
    if not minimum <= value <= maximum:
        raise exceptions.ValidationError({name: [message]})
    return value
