"""Professional registry API (HPR-style): the same shape as the facility API."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core.api.schema import errors
from facilities import selectors, services
from facilities.enums import ProfessionalCategory, RegistryStatus
from facilities.models import Affiliation, Professional

from .filters import registry_list_filters
from .serializers import ProfessionalInSerializer, ProfessionalOutSerializer, VerifySerializer

TAGS = ["professionals"]


def visible_professional(request, uuid) -> Professional:
    professional = get_object_or_404(selectors.professionals_with_details(), uuid=uuid)
    if not access.can(request.user, "view", professional):
        raise Http404
    return professional


def _response(professional, status_code=status.HTTP_200_OK):
    professional = selectors.professionals_with_details().get(pk=professional.pk)
    return Response(ProfessionalOutSerializer(professional).data, status=status_code)


def _input(serializer) -> dict:
    data = dict(serializer.validated_data)
    if "qualifications" in data:
        data["qualifications"] = [dict(item) for item in data["qualifications"]]
    return data


class ProfessionalListCreateView(generics.ListAPIView):
    serializer_class = ProfessionalOutSerializer

    @extend_schema(
        summary="List professionals you may see",
        parameters=[
            OpenApiParameter("district_lgd", OpenApiTypes.INT),
            OpenApiParameter("category", OpenApiTypes.STR, enum=ProfessionalCategory.values),
            OpenApiParameter("status", OpenApiTypes.STR, enum=RegistryStatus.values),
            OpenApiParameter("q", OpenApiTypes.STR, description="Part of the name, or the HPR ID."),
            OpenApiParameter("mine", OpenApiTypes.BOOL, description="Only your own registration."),
        ],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = registry_list_filters(
            self.request.query_params,
            kind_param="category",
            kinds=ProfessionalCategory.values,
            statuses=RegistryStatus.values,
        )
        category = filters.pop("kind")
        return selectors.professional_list(user=self.request.user, category=category, **filters)

    @extend_schema(
        summary="Start your own registration as a professional (a draft)",
        request=ProfessionalInSerializer,
        responses={201: ProfessionalOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request):
        serializer = ProfessionalInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        professional = services.professional_create(actor=request.user, data=_input(serializer), request=request)
        return _response(professional, status.HTTP_201_CREATED)


class ProfessionalDetailView(APIView):
    @extend_schema(summary="Get a professional", responses={200: ProfessionalOutSerializer}, tags=TAGS)
    def get(self, request, uuid):
        return Response(ProfessionalOutSerializer(visible_professional(request, uuid)).data)

    @extend_schema(
        summary="Change your draft or rejected registration",
        request=ProfessionalInSerializer,
        responses={200: ProfessionalOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def patch(self, request, uuid):
        professional = visible_professional(request, uuid)
        serializer = ProfessionalInSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        professional = services.professional_update(
            actor=request.user, professional=professional, data=_input(serializer), request=request
        )
        return _response(professional)


class ProfessionalSubmitView(APIView):
    @extend_schema(
        summary="Submit (or resubmit) your registration",
        request=None,
        responses={200: ProfessionalOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        professional = visible_professional(request, uuid)
        professional = services.professional_submit(actor=request.user, professional=professional, request=request)
        return _response(professional)


class ProfessionalVerifyView(APIView):
    @extend_schema(
        summary="Approve or reject a submitted professional (district officer)",
        request=VerifySerializer,
        responses={200: ProfessionalOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        professional = visible_professional(request, uuid)
        serializer = VerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        professional = services.professional_verify(
            actor=request.user, professional=professional, **serializer.validated_data, request=request
        )
        return _response(professional)


class AffiliationConfirmView(APIView):
    @extend_schema(
        summary="Confirm that a professional works at your facility (facility admin)",
        request=None,
        responses={200: ProfessionalOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid, facility_uuid):
        professional = visible_professional(request, uuid)
        affiliation = get_object_or_404(
            Affiliation.objects.select_related("facility", "professional"),
            professional=professional,
            facility__uuid=facility_uuid,
        )
        services.affiliation_confirm(actor=request.user, affiliation=affiliation, request=request)
        return _response(professional)
