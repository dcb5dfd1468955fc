"""The one place that answers "may this user do X to this object?" and "which rows may they see?".

Each app registers, for each of its models, one *scope* (the rows a user may see) and *rules*
(per action). HTML views, the API and the admin all ask here, so a denial is the same everywhere.
Anything not registered is denied: a new model is invisible until someone writes its rules.

    can(user, "verify", facility)                -> bool      (object level)
    can(user, "add", Facility)                   -> bool      (model level: "may they do this to any?")
    scope(user, Facility.objects)                -> QuerySet  (rows the user may see)
    scope(user, Facility.objects, "act_for")     -> QuerySet  (rows the user may do an action to)

Views, the API and the dashboards never filter rows by a user's memberships or districts themselves: they ask
`scope` (with the action when it is not "view"), so each list has its one definition here.
"""

from collections.abc import Callable

from django.db import models
from django.db.models import QuerySet

from .enums import Role

Rule = Callable[[object, object | None], bool]
Scope = Callable[[object, QuerySet], QuerySet]

_rules: dict[tuple[type[models.Model], str], Rule] = {}
_scopes: dict[tuple[type[models.Model], str], tuple[Scope, bool]] = {}


def rule(model: type[models.Model], *actions: str):
    """Register `fn(user, obj_or_None) -> bool` for `actions` on `model`."""

    def register(fn: Rule) -> Rule:
        for action in actions:
            _rules[(model, action)] = fn
        return fn

    return register


def scoper(model: type[models.Model], *actions: str, superuser_sees_all: bool = True):
    """Register `fn(user, queryset) -> queryset` as the rows of `model` a user may do `actions` to ("view" if none).

    `superuser_sees_all=False` is for scopes that state a fact about the person rather than a permission, such as
    "the facilities where they work": a superuser works at none unless they are a member, so the pages that list
    "your facilities" do not list all of them for an operator (`can` still lets a superuser do anything).
    """

    def register(fn: Scope) -> Scope:
        for action in actions or ("view",):
            _scopes[(model, action)] = (fn, superuser_sees_all)
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


def scope(user, queryset: QuerySet, action: str = "view") -> QuerySet:
    """`queryset` narrowed to the rows `user` may do `action` to, "view" by default (none for anonymous users and
    unregistered models or actions)."""
    if isinstance(queryset, models.Manager):
        queryset = queryset.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    registered = _scopes.get((queryset.model._meta.concrete_model, action))
    if registered is None:
        return queryset if user.is_superuser else queryset.none()
    fn, superuser_sees_all = registered
    if user.is_superuser and superuser_sees_all:
        return queryset
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
