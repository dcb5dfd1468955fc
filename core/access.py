"""The one place that answers "may this user do X to this object?" and "which rows may they see?".

Each app registers, for each of its models, one *scope* (the rows a user may see) and *rules*
(per action). HTML views, the API and the admin all ask here, so a denial is the same everywhere.
Anything not registered is denied: a new model is invisible until someone writes its rules.

    can(user, "verify", facility)    -> bool      (object level)
    can(user, "add", Facility)       -> bool      (model level: "may they do this to any?")
    scope(user, Facility.objects)    -> QuerySet  (rows the user may see)
"""

from collections.abc import Callable

from django.db import models
from django.db.models import QuerySet

from .enums import Role

Rule = Callable[[object, object | None], bool]
Scope = Callable[[object, QuerySet], QuerySet]

_rules: dict[tuple[type[models.Model], str], Rule] = {}
_scopes: dict[type[models.Model], Scope] = {}


def rule(model: type[models.Model], *actions: str):
    """Register `fn(user, obj_or_None) -> bool` for `actions` on `model`."""

    def register(fn: Rule) -> Rule:
        for action in actions:
            _rules[(model, action)] = fn
        return fn

    return register


def scoper(model: type[models.Model]):
    """Register `fn(user, queryset) -> queryset` as the visible rows of `model` for a user."""

    def register(fn: Scope) -> Scope:
        _scopes[model] = fn
        return fn

    return register


def _model_of(obj) -> type[models.Model]:
    model = obj if isinstance(obj, type) else type(obj)
    return model._meta.concrete_model


def can(user, action: str, obj) -> bool:
    """True when `user` may do `action` to `obj` (an instance, or a model class for "any")."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    fn = _rules.get((_model_of(obj), action))
    if fn is None:
        return False
    return bool(fn(user, None if isinstance(obj, type) else obj))


def scope(user, queryset: QuerySet) -> QuerySet:
    """`queryset` narrowed to the rows `user` may see (none for anonymous or unregistered models)."""
    if isinstance(queryset, models.Manager):
        queryset = queryset.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    fn = _scopes.get(queryset.model._meta.concrete_model)
    if fn is None:
        return queryset.none()
    return fn(user, queryset)


# --- Role facts used by the rules of every app ---------------------------------------


def is_state_official(user) -> bool:
    return user.is_authenticated and user.role == Role.STATE_OFFICIAL


def is_district_officer(user) -> bool:
    return user.is_authenticated and user.role == Role.DISTRICT_OFFICER


def is_official(user) -> bool:
    return is_state_official(user) or is_district_officer(user)


def officer_district_ids(user) -> set[int]:
    """LGD codes of the districts a district officer is bound to (cached on the user object)."""
    if not is_district_officer(user):
        return set()
    cached = getattr(user, "_officer_district_ids", None)
    if cached is None:
        cached = set(user.districts.values_list("lgd_code", flat=True))
        user._officer_district_ids = cached
    return cached
