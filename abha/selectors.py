"""Reads about ABHA accounts that several views and the API repeat."""

from django.utils.translation import gettext as _

from .enums import AccountStatus
from .identifiers import (
    IdentifierError,
    abha_number_clean,
    address_full,
    address_local_part,
    address_validate,
    looks_like_abha_number,
)
from .models import AbhaAccount, AbhaAddress


def account_for_user(user) -> AbhaAccount | None:
    """The signed-in citizen's own account (one query), or None for anyone else."""
    if not user.is_authenticated:
        return None
    descriptor = getattr(type(user), "abha", None)  # request.user may be a lazy wrapper: then just query
    if descriptor is not None and descriptor.is_cached(user):  # loaded with the API token (abha.api.authentication)
        account = getattr(user, "abha", None)
        return account if account is not None and account.status != AccountStatus.DELETED else None
    return (
        AbhaAccount.objects.exclude(status=AccountStatus.DELETED)
        .select_related("district", "state")
        .filter(user=user)
        .first()
    )


def account_by_identifier(identifier: str) -> AbhaAccount | None:
    """An account by ABHA number (with or without dashes) or ABHA address; deleted ones are not found.

    One indexed query: the unique number, or the case-insensitive unique address index.
    """
    identifier = str(identifier or "").strip()
    accounts = AbhaAccount.objects.not_deleted().select_related("district", "state")
    if looks_like_abha_number(identifier):
        try:
            return accounts.filter(abha_number=abha_number_clean(identifier)).first()
        except IdentifierError:
            return None
    local = address_local_part(identifier)
    if not local:
        return None
    address = AbhaAddress.objects.named(local).only("account_id").first()
    return accounts.filter(pk=address.account_id).first() if address else None


def address_is_available(local: str) -> bool:
    """True when no account holds `local` (addresses are stored lower-case; unique ignoring case)."""
    return not AbhaAddress.objects.named(local).exists()


def addresses_available(candidates: list[str]) -> list[str]:
    """`candidates` without the taken ones, order kept (one query)."""
    taken = set(AbhaAddress.objects.named_any(candidates).values_list("local", flat=True))
    return [c for c in candidates if c.lower() not in taken]


def address_availability(raw: str) -> dict:
    """{"abha_address", "available", "message"} for the live check of a typed address (one query)."""
    try:
        local = address_validate(raw)
    except IdentifierError as error:
        return {"abha_address": raw, "available": False, "message": str(error.message)}
    if not address_is_available(local):
        return {"abha_address": address_full(local), "available": False, "message": _("This ABHA address is taken.")}
    return {"abha_address": address_full(local), "available": True, "message": _("This ABHA address is available.")}
