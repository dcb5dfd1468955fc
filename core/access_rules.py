"""Access rules for core's own models (see core.access)."""

from . import access
from .models import AuditEvent, District, PopulationFigure, State, User


@access.scoper(State)
@access.scoper(District)
def _geography_is_public(user, queryset):
    return queryset


@access.rule(State, "view")
@access.rule(District, "view")
def _anyone_signed_in_may_view_geography(user, obj):
    return True


@access.scoper(PopulationFigure)
def _population_scope(user, queryset):
    return queryset if access.is_official(user) else queryset.none()


@access.rule(PopulationFigure, "view")
def _officials_view_population(user, obj):
    return access.is_official(user)


@access.rule(PopulationFigure, "add", "change")
def _state_officials_edit_population(user, obj):
    return access.is_state_official(user)


@access.scoper(AuditEvent)
def _audit_scope(user, queryset):
    if access.is_state_official(user):
        return queryset
    return queryset.filter(actor=user)


@access.rule(AuditEvent, "view")
def _audit_view(user, obj):
    return access.is_state_official(user) or (obj is not None and obj.actor_id == user.pk)


@access.scoper(User)
def _user_scope(user, queryset):
    if access.is_state_official(user):
        return queryset
    if access.is_district_officer(user):
        # Officers manage people bound to their districts, and see themselves.
        districts = access.officer_district_ids(user)
        return (queryset.filter(districts__in=districts) | queryset.filter(pk=user.pk)).distinct()
    return queryset.filter(pk=user.pk)


@access.rule(User, "view")
def _user_view(user, obj):
    if obj is None:
        return access.is_official(user)
    return User.objects.filter(pk=obj.pk).filter(pk__in=access.scope(user, User.objects).values("pk")).exists()


@access.rule(User, "change")
def _user_change(user, obj):
    # Officials manage accounts through the admin; only state officials may change other officials.
    if access.is_state_official(user):
        return obj is None or not obj.is_superuser
    return False
