"""The public directory: verified facilities and professionals, for anyone, with counts and pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics
from rest_framework.permissions import AllowAny

from core.api.pagination import CountedPagination
from facilities import selectors
from facilities.enums import FacilityType, ProfessionalCategory, SystemOfMedicine

from .serializers import FacilityPublicSerializer, ProfessionalPublicSerializer

TAGS = ["directory"]


def _choice(params, name, choices):
    value = params.get(name) or None
    if value and value not in choices:
        raise exceptions.ValidationError({name: [f"Use one of: {', '.join(choices)}."]})
    return value


def _district(params):
    value = params.get("district_lgd") or None
    if value is not None and not value.isdigit():
        raise exceptions.ValidationError({"district_lgd": ["Give the district's numeric LGD code."]})
    return int(value) if value else None


class DirectoryPagination(CountedPagination):
    """Directory pages of 20 (the browser shows 20 too); `page_size` up to 100."""

    page_size = 20
    max_page_size = 100


COMMON = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Part of the name, or the exact ID."),
    OpenApiParameter("district_lgd", OpenApiTypes.INT),
    OpenApiParameter("system", OpenApiTypes.STR, enum=SystemOfMedicine.values),
]


class FacilityDirectoryView(generics.ListAPIView):
    serializer_class = FacilityPublicSerializer
    permission_classes = [AllowAny]
    pagination_class = DirectoryPagination

    @extend_schema(
        summary="Search verified facilities (public)",
        parameters=[*COMMON, OpenApiParameter("type", OpenApiTypes.STR, enum=FacilityType.values)],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return selectors.directory_facilities(
            q=(params.get("q") or "").strip() or None,
            district_lgd=_district(params),
            facility_type=_choice(params, "type", FacilityType.values),
            system=_choice(params, "system", SystemOfMedicine.values),
        )


class ProfessionalDirectoryView(generics.ListAPIView):
    serializer_class = ProfessionalPublicSerializer
    permission_classes = [AllowAny]
    pagination_class = DirectoryPagination

    @extend_schema(
        summary="Search verified professionals (public; no personal contact details)",
        parameters=[*COMMON, OpenApiParameter("category", OpenApiTypes.STR, enum=ProfessionalCategory.values)],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return selectors.directory_professionals(
            q=(params.get("q") or "").strip() or None,
            district_lgd=_district(params),
            category=_choice(params, "category", ProfessionalCategory.values),
            system=_choice(params, "system", SystemOfMedicine.values),
        )
