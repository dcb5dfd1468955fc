"""Writes owned by core: the audit log, population denominators, the worker heartbeat."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import AuditEvent, District, PopulationFigure, State, User, WorkerHeartbeat


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
