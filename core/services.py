"""Writes owned by core: the audit log, population denominators, the worker heartbeat, the sign-in lockout,
API tokens."""

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from . import ratelimit
from .exceptions import LockedOut
from .models import ApiTokenUse, AuditEvent, District, PopulationFigure, State, User, WorkerHeartbeat


def client_ip(request) -> str | None:
    """The caller's IP: REMOTE_ADDR, or the address our own proxies saw (NUM_PROXIES)."""
    if request is None:
        return None
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR") or None


def audit_record(*, actor, action: str, target=None, details: dict | None = None, request=None) -> AuditEvent:
    """Append one audit row: who (`actor`, a User or None for the system) did `action` to `target`.

    `target` is a model instance (its UUID, or primary key, is stored with its type) or None.
    `details` is free JSON and must never carry Aadhaar numbers, OTPs or health data.
    Runs in the caller's transaction, so the row exists exactly when the change it records does.
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    target_type = target_id = target_label = ""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(getattr(target, "uuid", None) or target.pk)
        target_label = str(target)[:200]
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=(actor.get_username() if actor else "system")[:200],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        details=details or {},
        ip_address=client_ip(request),
    )


@transaction.atomic
def population_set(
    *, actor: User, state: State, district: District | None, year: int, population: int, source: str, request=None
) -> PopulationFigure:
    """Create or replace the population figure for a state or district and year; audited."""
    figure, created = PopulationFigure.objects.update_or_create(
        state=state, district=district, year=year, defaults={"population": population, "source": source}
    )
    audit_record(
        actor=actor,
        action="population.set" if created else "population.update",
        target=figure,
        details={"year": year, "population": population, "source": source},
        request=request,
    )
    return figure


# --- API tokens ------------------------------------------------------------------------
# DRF's authtoken Token: one per person, so a new sign-in replaces (revokes) the previous token. Expiry is
# checked where the token is read (abha/api/authentication.py): staff after STAFF_IDLE_MINUTES unused (last use
# in ApiTokenUse), citizens CITIZEN_TOKEN_HOURS after sign-in.


@transaction.atomic
def api_token_issue(*, user: User, request=None) -> Token:
    """A new API token for `user` (an API sign-in). Deletes the previous one, so it stops working, and audits
    `auth.token_issued`. Queries: one DELETE (its use row cascades), one INSERT, the audit INSERT."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    audit_record(actor=user, action="auth.token_issued", target=user, request=request)
    return token


@transaction.atomic
def api_token_revoke(*, user: User, request=None) -> None:
    """The API sign-out: `user`'s token stops working at once. Audits `auth.token_revoked` (also when there was
    none, e.g. a session caller: the sign-out happened)."""
    Token.objects.filter(user=user).delete()
    audit_record(actor=user, action="auth.token_revoked", target=user, request=request)


def api_token_touch(*, token_key: str, now) -> None:
    """Records that a staff token was used `now` (one upsert). The authentication calls it at most once a minute
    per token; no audit row: a timestamp, not an action. A token revoked meanwhile is left alone."""
    try:
        with transaction.atomic():
            ApiTokenUse.objects.bulk_create(
                [ApiTokenUse(token_id=token_key, last_used=now)],
                update_conflicts=True,
                unique_fields=["token"],
                update_fields=["last_used"],
            )
    except IntegrityError:  # the token was deleted (sign-out, a new sign-in) since it was read: nothing to record
        return


def heartbeat_touch(*, name: str) -> None:
    """Mark worker `name` as alive now (one upsert)."""
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


def password_set_link(user: User) -> str:
    """An absolute, one-time link where `user` chooses a password (Django's reset token, valid
    PASSWORD_RESET_TIMEOUT seconds; it stops working once the password changes or they sign in)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "core:password_set",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.PORTAL_BASE_URL.rstrip("/") + path


# --- Staff sign-in lockout --------------------------------------------------------------
# Failed password sign-ins (pages, admin, API token) are counted in the shared cache per username
# and per client IP. The failure that reaches LOGIN_ACCOUNT_MAX_FAILURES (or LOGIN_IP_MAX_FAILURES)
# locks that username (or IP) for LOGIN_LOCKOUT_MINUTES, even for the right password. Usernames and
# IPs are hashed in the keys. Unknown usernames lock the same way, so the answer does not reveal
# which accounts exist. A success clears the username's count, not the IP's.


def _clock() -> float:
    return time.time()


def _login_scopes(username: str, request) -> list[tuple[str, str, int]]:
    """(scope, hashed key part, failure limit) for the username and, when known, the caller's IP."""
    scopes = [("account", ratelimit.hashed(username.strip().casefold()), settings.LOGIN_ACCOUNT_MAX_FAILURES)]
    ip = client_ip(request)
    if ip:
        scopes.append(("ip", ratelimit.hashed(ip), settings.LOGIN_IP_MAX_FAILURES))
    return scopes


def login_lockout_check(*, username: str, request) -> None:
    """Raises LockedOut (429, code locked_out) while the username or the caller's IP is locked. Cache reads only."""
    now = _clock()
    for scope, key, _limit in _login_scopes(username, request):
        until = cache.get(f"auth:login:lock:{scope}:{key}")
        if until and until > now:
            minutes = max(1, math.ceil((until - now) / 60))
            raise LockedOut(
                _("Too many failed sign-ins. For safety, sign-in is paused: try again in %(minutes)s min.")
                % {"minutes": minutes},
                retry_after=math.ceil(until - now),
            )


def login_failure_record(*, username: str, request) -> None:
    """Counts one failed sign-in for the username and the caller's IP (cache counters that live one lockout
    window). Reaching a limit sets the lock, restarts that count and writes an `auth.locked_out` audit row
    (target: the account when it exists; never the typed username, which may be someone's mobile number)."""
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    for scope, key, limit in _login_scopes(username, request):
        counter = f"auth:login:fail:{scope}:{key}"
        failures = ratelimit.hit(counter, seconds=window, from_first_hit=True)
        if failures < limit:
            continue
        cache.set(f"auth:login:lock:{scope}:{key}", _clock() + window, timeout=window)
        ratelimit.clear(counter, seconds=window, from_first_hit=True)
        account = User.objects.filter(**{User.USERNAME_FIELD: username}).first() if scope == "account" else None
        audit_record(
            actor=None,
            action="auth.locked_out",
            target=account,
            details={"scope": scope, "failures": failures, "minutes": settings.LOGIN_LOCKOUT_MINUTES},
            request=request,
        )


def login_success_record(*, username: str, request) -> None:
    """A successful sign-in forgets the username's failures (one cache delete); the IP's count stays."""
    scope, key, _limit = _login_scopes(username, request)[0]
    ratelimit.clear(f"auth:login:fail:{scope}:{key}", seconds=settings.LOGIN_LOCKOUT_MINUTES * 60, from_first_hit=True)
