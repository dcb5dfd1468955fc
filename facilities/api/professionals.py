"""Professional registry API (HPR-style): the same shape as the facility API."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import errors
from facilities import selectors, services
from facilities.enums import ProfessionalCategory, RegistryStatus
from facilities.models import Affiliation, Professional

from .filters import registry_list_filters, registry_list_parameters
from .serializers import ProfessionalInSerializer, ProfessionalOutSerializer, VerifySerializer, validated

TAGS = ["professionals"]
LIST_FILTERS = {"kind_param": "category", "kinds": ProfessionalCategory.values, "statuses": RegistryStatus.values}


def visible_professional(request, uuid) -> Professional:
    return selectors.visible_professional(user=request.user, uuid=uuid)


def _response(professional, status_code=status.HTTP_200_OK):
    professional = selectors.professionals_with_details().get(pk=professional.pk)
    return Response(ProfessionalOutSerializer(professional).data, status=status_code)


class ProfessionalListCreateView(generics.ListAPIView):
    serializer_class = ProfessionalOutSerializer

    @extend_schema(
        summary="List professionals you may see",
        parameters=registry_list_parameters(
            **LIST_FILTERS, q="Part of the name, or the HPR ID.", mine="Only your own registration."
        ),
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = registry_list_filters(self.request.query_params, **LIST_FILTERS)
        return selectors.professional_list(user=self.request.user, category=filters.pop("kind"), **filters)

    @extend_schema(
        summary="Start your own registration as a professional (a draft)",
        request=ProfessionalInSerializer,
        responses={201: ProfessionalOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request):
        data = validated(ProfessionalInSerializer, request.data)
        professional = services.professional_create(actor=request.user, data=data, request=request)
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
        data = validated(ProfessionalInSerializer, request.data, partial=True)
        professional = services.professional_update(
            actor=request.user, professional=professional, data=data, request=request
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
        data = validated(VerifySerializer, request.data)
        professional = services.professional_verify(
            actor=request.user, professional=professional, **data, request=request
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
