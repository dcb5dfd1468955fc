"""The public directory: verified facilities and professionals, for anyone, with counts and pages."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from core.api.params import query_int
from facilities import selectors
from facilities.enums import FacilityType, ProfessionalCategory, SystemOfMedicine

from .serializers import FacilityPublicSerializer, ProfessionalPublicSerializer

TAGS = ["directory"]
PAGE_SIZE, MAX_PAGE_SIZE = 20, 100


def _choice(params, name, choices):
    value = params.get(name) or None
    if value and value not in choices:
        raise exceptions.ValidationError({name: [_("Use one of: %(choices)s.") % {"choices": ", ".join(choices)}]})
    return value


def _district(params):
    return query_int(params, "district_lgd", message=_("Give the district's numeric LGD code."))


def _page_size(params) -> int:
    value = params.get("page_size") or ""
    return min(int(value), MAX_PAGE_SIZE) if value.isdecimal() and int(value) > 0 else PAGE_SIZE


def _paged_response(request, queryset, serializer_class, searching: bool):
    page = selectors.directory_page(
        queryset,
        searching=searching,
        number=request.query_params.get("page"),
        page_size=_page_size(request.query_params),
    )
    url = request.build_absolute_uri()
    previous = None
    if page.number > 1:
        previous = (
            replace_query_param(url, "page", page.number - 1) if page.number > 2 else remove_query_param(url, "page")
        )
    return Response(
        {
            "count": page.count,
            "count_capped": page.count_capped,
            "next": replace_query_param(url, "page", page.number + 1) if page.has_next else None,
            "previous": previous,
            "results": serializer_class(page.rows, many=True).data,
        }
    )


def _page_schema(name, serializer_class):
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(help_text="Matches; with a search term at most 1000 (see count_capped)."),
            "count_capped": serializers.BooleanField(help_text="True when a search matched more than 1000."),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


COMMON = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Part of the name, or the exact ID."),
    OpenApiParameter("district_lgd", OpenApiTypes.INT),
    OpenApiParameter("system", OpenApiTypes.STR, enum=SystemOfMedicine.values),
    OpenApiParameter("page", OpenApiTypes.INT),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="20 by default, at most 100."),
]


class FacilityDirectoryView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Search verified facilities (public)",
        parameters=[*COMMON, OpenApiParameter("type", OpenApiTypes.STR, enum=FacilityType.values)],
        responses={200: _page_schema("FacilityDirectoryPage", FacilityPublicSerializer)},
        tags=TAGS,
    )
    def get(self, request):
        params = request.query_params
        q = (params.get("q") or "").strip() or None
        facilities = selectors.directory_facilities(
            q=q,
            district_lgd=_district(params),
            facility_type=_choice(params, "type", FacilityType.values),
            system=_choice(params, "system", SystemOfMedicine.values),
        )
        return _paged_response(request, facilities, FacilityPublicSerializer, searching=bool(q))


class ProfessionalDirectoryView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Search verified professionals (public; no personal contact details)",
        parameters=[*COMMON, OpenApiParameter("category", OpenApiTypes.STR, enum=ProfessionalCategory.values)],
        responses={200: _page_schema("ProfessionalDirectoryPage", ProfessionalPublicSerializer)},
        tags=TAGS,
    )
    def get(self, request):
        params = request.query_params
        q = (params.get("q") or "").strip() or None
        professionals = selectors.directory_professionals(
            q=q,
            district_lgd=_district(params),
            category=_choice(params, "category", ProfessionalCategory.values),
            system=_choice(params, "system", SystemOfMedicine.values),
        )
        return _paged_response(request, professionals, ProfessionalPublicSerializer, searching=bool(q))
