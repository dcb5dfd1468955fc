"""Query-string filters shared by the facility and professional list endpoints, and their OpenAPI description."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions

from core.api.params import query_int


def _choice(params, name: str, allowed) -> str | None:
    value = params.get(name) or None
    if value and value not in allowed:
        raise exceptions.ValidationError({name: [_("Use one of: %(choices)s.") % {"choices": ", ".join(allowed)}]})
    return value


def registry_list_filters(params, *, kind_param: str, kinds, statuses) -> dict:
    """`district_lgd`, the kind (`type` or `category`), `status`, `q` and `mine`, validated.

    A bad value is a 400 naming its field; the kind comes back under the key `kind`.
    """
    return {
        "district_lgd": query_int(params, "district_lgd", message=_("Give the district's numeric LGD code.")),
        "kind": _choice(params, kind_param, kinds),
        "status": _choice(params, "status", statuses),
        "q": (params.get("q") or "").strip() or None,
        "mine": params.get("mine", "").lower() in ("1", "true", "yes"),
    }


def registry_list_parameters(*, kind_param: str, kinds, statuses, q: str, mine: str) -> list[OpenApiParameter]:
    """The filters `registry_list_filters` reads, for the schema; `q` and `mine` say what those two match."""
    return [
        OpenApiParameter("district_lgd", OpenApiTypes.INT),
        OpenApiParameter(kind_param, OpenApiTypes.STR, enum=kinds),
        OpenApiParameter("status", OpenApiTypes.STR, enum=statuses),
        OpenApiParameter("q", OpenApiTypes.STR, description=q),
        OpenApiParameter("mine", OpenApiTypes.BOOL, description=mine),
    ]
