"""Who may see and act on facilities (see core.access)."""

from core import access
from core.enums import Role

from .enums import MembershipRole
from .models import Counter, Facility, FacilityMembership

# Roles that may start a facility registration (the creator becomes the new facility's admin).
REGISTERING_ROLES = frozenset({Role.FACILITY_ADMIN, Role.FACILITY_STAFF})


def member_facility_ids(user, *roles: str) -> set[int]:
    """Primary keys of the facilities where `user` holds one of `roles` (any role if none given)."""
    memberships = FacilityMembership.objects.filter(user=user)
    if roles:
        memberships = memberships.filter(role__in=roles)
    return set(memberships.values_list("facility_id", flat=True))


@access.scoper(Facility)
def _facility_scope(user, queryset):
    if access.is_state_official(user):
        return queryset
    if access.is_district_officer(user):
        return queryset.filter(district_id__in=access.officer_district_ids(user))
    return queryset.filter(memberships__user=user).distinct()


@access.rule(Facility, "view")
def _facility_view(user, facility):
    if facility is None:
        return True
    if access.is_state_official(user):
        return True
    if access.is_district_officer(user):
        return facility.district_id in access.officer_district_ids(user)
    return facility.pk in member_facility_ids(user)


@access.rule(Facility, "verify", "reject", "suspend")
def _facility_verify(user, facility):
    if access.is_state_official(user):
        return True
    if access.is_district_officer(user):
        return facility is None or facility.district_id in access.officer_district_ids(user)
    return False


@access.rule(Facility, "add")
def _facility_add(user, facility):
    return user.role in REGISTERING_ROLES


@access.rule(Facility, "change", "manage_team")
def _facility_admin(user, facility):
    if facility is None:
        return bool(member_facility_ids(user, MembershipRole.ADMIN))
    return facility.pk in member_facility_ids(user, MembershipRole.ADMIN)


@access.rule(Facility, "act_for")
def _facility_member(user, facility):
    """Staff, admins and doctors act for (add records, run counters at) their own facilities."""
    if facility is None:
        return bool(member_facility_ids(user))
    return facility.pk in member_facility_ids(user)


@access.scoper(FacilityMembership)
def _membership_scope(user, queryset):
    facilities = access.scope(user, Facility.objects.all())
    return queryset.filter(facility__in=facilities)


@access.rule(FacilityMembership, "view")
def _membership_view(user, membership):
    return membership is None or _facility_view(user, membership.facility)


@access.scoper(Counter)
def _counter_scope(user, queryset):
    facilities = access.scope(user, Facility.objects.all())
    return queryset.filter(facility__in=facilities)


@access.rule(Counter, "view")
def _counter_view(user, counter):
    return counter is None or _facility_view(user, counter.facility)


@access.rule(Counter, "change")
def _counter_change(user, counter):
    return counter is None or _facility_admin(user, counter.facility)
