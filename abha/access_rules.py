"""Who may see ABHA accounts (see core.access).

A citizen sees their own account; district officers the accounts of their districts; state
officials all. Facility staff do not browse accounts: they `lookup` one by number or address
(the M1 verification API), which is audited.
"""

from core import access
from core.enums import FACILITY_ROLES

from .models import AbhaAccount, AbhaAddress


@access.scoper(AbhaAccount)
def _account_scope(user, queryset):
    if access.is_state_official(user):
        return queryset
    if access.is_district_officer(user):
        return queryset.filter(district_id__in=access.officer_district_ids(user))
    return queryset.filter(user=user)


@access.rule(AbhaAccount, "view")
def _account_view(user, account):
    if account is None:
        return access.is_official(user)
    if access.is_state_official(user):
        return True
    if access.is_district_officer(user):
        return account.district_id in access.officer_district_ids(user)
    return account.user_id == user.pk


@access.rule(AbhaAccount, "change")
def _account_change(user, account):
    # Only the citizen changes their own account (through services, with OTP where needed).
    return account is not None and account.user_id == user.pk


@access.rule(AbhaAccount, "lookup")
def _account_lookup(user, account):
    """Facility people with at least one facility membership verify ABHAs for their patients."""
    from facilities.access_rules import member_facility_ids

    return user.role in FACILITY_ROLES and bool(member_facility_ids(user))


@access.scoper(AbhaAddress)
def _address_scope(user, queryset):
    return queryset.filter(account__in=access.scope(user, AbhaAccount.objects.all()))


@access.rule(AbhaAddress, "view")
def _address_view(user, address):
    return address is None or _account_view(user, address.account)
