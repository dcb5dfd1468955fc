"""Who may see and act on facilities (see core.access)."""

from django.db.models import Q

from core import access
from core.enums import Role

from .enums import MembershipRole
from .models import BulkUpload, Counter, Facility, FacilityMembership, Professional

# Roles that may start a facility registration (the creator becomes the new facility's admin).
REGISTERING_ROLES = frozenset({Role.FACILITY_ADMIN, Role.FACILITY_STAFF})


def _memberships(user, roles=()):
    memberships = FacilityMembership.objects.filter(user=user)
    if roles:
        memberships = memberships.filter(role__in=roles)
    return memberships


def member_facility_ids(user, *roles: str) -> set[int]:
    """Primary keys of the facilities where `user` holds one of `roles` (any role if none given), in one query.

    For the access rules: views and the API ask `access.scope(user, Facility.objects, "act_for")` instead.
    """
    return set(_memberships(user, roles).values_list("facility_id", flat=True))


def member_facilities_subquery(user, *roles: str):
    """The same facilities as a subquery (`facility_id__in=`), so a scope stays one query."""
    return _memberships(user, roles).values("facility_id")


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


# Where a person works is a fact about them, not a permission: a superuser works at no facility they are not a
# member of, so "your facilities" stays theirs (see core.access.scoper).
@access.scoper(Facility, "act_for", superuser_sees_all=False)
def _facility_member_scope(user, queryset):
    return queryset.filter(pk__in=member_facilities_subquery(user))


@access.scoper(Facility, "request_records", superuser_sees_all=False)
def _facility_doctor_scope(user, queryset):
    """Doctors request consent and use emergency access for the facilities where they are doctors."""
    return queryset.filter(pk__in=member_facilities_subquery(user, MembershipRole.DOCTOR))


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


# --- Professionals ------------------------------------------------------------------------

PROFESSIONAL_ROLES = frozenset({Role.FACILITY_ADMIN, Role.FACILITY_STAFF, Role.DOCTOR})


@access.scoper(Professional)
def _professional_scope(user, queryset):
    """Officials see their districts' (the state all); a person sees their own and those who say they work
    at a facility they administer (to confirm it)."""
    if access.is_state_official(user):
        return queryset
    if access.is_district_officer(user):
        return queryset.filter(district_id__in=access.officer_district_ids(user))
    administered = member_facility_ids(user, MembershipRole.ADMIN)
    return queryset.filter(Q(user=user) | Q(affiliations__facility_id__in=administered)).distinct()


@access.rule(Professional, "view")
def _professional_view(user, professional):
    if professional is None:
        return True
    if access.is_state_official(user):
        return True
    if access.is_district_officer(user):
        return professional.district_id in access.officer_district_ids(user)
    if professional.user_id == user.pk:
        return True
    administered = member_facility_ids(user, MembershipRole.ADMIN)
    return professional.affiliations.filter(facility_id__in=administered).exists()


@access.rule(Professional, "add")
def _professional_add(user, professional):
    return user.role in PROFESSIONAL_ROLES


@access.rule(Professional, "change")
def _professional_change(user, professional):
    return professional is not None and professional.user_id == user.pk


@access.rule(Professional, "verify")
def _professional_verify(user, professional):
    if access.is_state_official(user):
        return True
    if access.is_district_officer(user):
        return professional is None or professional.district_id in access.officer_district_ids(user)
    return False


# --- Bulk uploads: the official who uploaded it, and the state officials ------------------


@access.scoper(BulkUpload)
def _bulk_scope(user, queryset):
    if access.is_state_official(user):
        return queryset
    return queryset.filter(uploaded_by=user)


@access.rule(BulkUpload, "view")
def _bulk_view(user, upload):
    return upload is None or access.is_state_official(user) or upload.uploaded_by_id == user.pk
