"""Scan & Share reads: a counter's queue (with new vs returning), the TV display, a citizen's shares, daily counts."""

import datetime
import hashlib

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from facilities.enums import FacilityStatus
from facilities.models import Counter, Facility

from .enums import TokenStatus
from .models import ScanToken


def _returning():
    """True when the patient had an earlier token at this facility (the same portal account, or for an ABDM share
    by an ABHA the portal has no account for, the same ABHA address)."""
    same_person = Q(patient=OuterRef("patient")) | (Q(abha_address=OuterRef("abha_address")) & ~Q(abha_address=""))
    earlier = ScanToken.objects.filter(same_person, facility=OuterRef("facility"), issued_at__lt=OuterRef("issued_at"))
    return Exists(earlier)


def queue_tokens(*, facility: Facility, counter: Counter | None = None, day: datetime.date | None = None):
    """The day's tokens at a facility (one counter if given), by counter and number, each with `returning`.

    One query; staff access is checked by the caller.
    """
    tokens = ScanToken.objects.filter(facility=facility, day=day or timezone.localdate())
    if counter is not None:
        tokens = tokens.filter(counter=counter)
    return tokens.select_related("counter").annotate(returning=_returning()).order_by("counter__code", "number")


def display_board(*, facility: Facility, counter: Counter, upcoming: int = 5) -> dict:
    """For the waiting-hall TV: the token being served (latest called) and the next waiting ones. Two queries."""
    today = ScanToken.objects.filter(counter=counter, day=timezone.localdate())
    current = today.filter(status=TokenStatus.CALLED).order_by("-called_at", "-number").first()
    waiting = list(
        today.filter(status=TokenStatus.WAITING, valid_until__gt=timezone.now()).order_by("number")[:upcoming]
    )
    return {"current": current, "waiting": waiting}


def display_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_counter(*, key: str) -> Counter | None:
    """The active counter of a verified facility whose TV display key is `key`, with its facility; else None.
    One query."""
    return (
        Counter.objects.select_related("facility")
        .filter(display_key__key_hash=display_key_hash(key), active=True, facility__status=FacilityStatus.VERIFIED)
        .first()
    )


def citizen_shares(account, *, limit: int = 100):
    """The patient's past shares, newest first (one query)."""
    return (
        ScanToken.objects.filter(patient=account).select_related("facility", "counter").order_by("-issued_at")[:limit]
    )


def daily_counts(*, facility: Facility, days: int = 7) -> list[dict]:
    """Tokens per counter per day for the last `days` days, with how many were served (one query)."""
    since = timezone.localdate() - datetime.timedelta(days=days - 1)
    return list(
        ScanToken.objects.filter(facility=facility, day__gte=since)
        .values("day", "counter__code")
        .annotate(tokens=Count("id"), served=Count("id", filter=Q(status=TokenStatus.DONE)))
        .order_by("-day", "counter__code")
    )
