"""Who may see and manage microsites (see core.access)."""

from core import access
from core.models import District

from .models import Microsite, Milestone


@access.scoper(District, "view_dashboard")
def _dashboard_district_scope(user, queryset):
    """The districts whose dashboard figures a user sees: all for state officials, their own for district officers
    (as their facilities and ABHA accounts), none for anyone else."""
    if access.is_state_official(user):
        return queryset
    if access.is_district_officer(user):
        return queryset.filter(lgd_code__in=access.officer_district_ids(user))
    return queryset.none()


@access.scoper(Microsite)
def _microsite_scope(user, queryset):
    if access.is_state_official(user):
        return queryset
    if access.is_district_officer(user):
        return queryset.filter(districts__in=access.officer_district_ids(user)).distinct()
    return queryset.none()


@access.rule(Microsite, "view")
def _microsite_view(user, microsite):
    if access.is_state_official(user):
        return True
    if not access.is_district_officer(user):
        return False
    if microsite is None:
        return True
    return bool(access.officer_district_ids(user) & {d.pk for d in microsite.districts.all()})


@access.rule(Microsite, "add", "change")
def _microsite_edit(user, microsite):
    return access.is_state_official(user)


@access.rule(Microsite, "manage_milestones")
def _microsite_milestones(user, microsite):
    return access.is_state_official(user) or (access.is_district_officer(user) and _microsite_view(user, microsite))


@access.scoper(Milestone)
def _milestone_scope(user, queryset):
    return queryset.filter(microsite__in=access.scope(user, Microsite.objects.all()))


@access.rule(Milestone, "view")
def _milestone_view(user, milestone):
    return milestone is None or _microsite_view(user, milestone.microsite)
