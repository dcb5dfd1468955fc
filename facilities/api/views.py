"""Facility registry API: thin views that parse input, call one service or selector, and render."""

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
from facilities.enums import FacilityStatus, FacilityType
from facilities.models import Counter, Facility, FacilityMembership

from .filters import registry_list_filters
from .serializers import (
    CounterInSerializer,
    CounterSerializer,
    CounterUpdateSerializer,
    DuplicateSerializer,
    FacilityInSerializer,
    FacilityOutSerializer,
    InviteSerializer,
    MembershipSerializer,
    StatusChangeSerializer,
    SubmitSerializer,
    VerifySerializer,
)

TAGS = ["facilities"]


def visible_facility(request, uuid) -> Facility:
    """The facility if the caller may see it; 404 otherwise (an outsider learns nothing)."""
    facility = get_object_or_404(Facility.objects.select_related("district", "state"), uuid=uuid)
    if not access.can(request.user, "view", facility):
        raise Http404
    return facility


def _facility_response(facility, status_code=status.HTTP_200_OK):
    facility = Facility.objects.select_related("district", "state").get(pk=facility.pk)
    return Response(FacilityOutSerializer(facility).data, status=status_code)


class FacilityListCreateView(generics.ListAPIView):
    serializer_class = FacilityOutSerializer

    @extend_schema(
        summary="List facilities you may see",
        parameters=[
            OpenApiParameter("district_lgd", OpenApiTypes.INT),
            OpenApiParameter("type", OpenApiTypes.STR, enum=FacilityType.values),
            OpenApiParameter("status", OpenApiTypes.STR, enum=FacilityStatus.values),
            OpenApiParameter("q", OpenApiTypes.STR, description="Part of the name, or the facility ID."),
            OpenApiParameter("mine", OpenApiTypes.BOOL, description="Only facilities where you are a member."),
        ],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = registry_list_filters(
            self.request.query_params, kind_param="type", kinds=FacilityType.values, statuses=FacilityStatus.values
        )
        facility_type = filters.pop("kind")
        return selectors.facility_list(user=self.request.user, facility_type=facility_type, **filters)

    @extend_schema(
        summary="Start a facility registration (a draft)",
        request=FacilityInSerializer,
        responses={201: FacilityOutSerializer},
        tags=TAGS,
    )
    def post(self, request):
        serializer = FacilityInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        facility = services.facility_create(actor=request.user, data=serializer.validated_data, request=request)
        return _facility_response(facility, status.HTTP_201_CREATED)


class FacilityDetailView(APIView):
    @extend_schema(summary="Get a facility", responses={200: FacilityOutSerializer}, tags=TAGS)
    def get(self, request, uuid):
        return Response(FacilityOutSerializer(visible_facility(request, uuid)).data)

    @extend_schema(
        summary="Change a draft or rejected facility",
        request=FacilityInSerializer,
        responses={200: FacilityOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def patch(self, request, uuid):
        facility = visible_facility(request, uuid)
        serializer = FacilityInSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        facility = services.facility_update(
            actor=request.user, facility=facility, data=serializer.validated_data, request=request
        )
        return _facility_response(facility)


class FacilityDuplicatesView(APIView):
    @extend_schema(
        summary="Likely duplicates of a facility", responses={200: DuplicateSerializer(many=True)}, tags=TAGS
    )
    def get(self, request, uuid):
        facility = visible_facility(request, uuid)
        return Response(DuplicateSerializer(selectors.facility_duplicates(facility=facility), many=True).data)


class FacilitySubmitView(APIView):
    @extend_schema(
        summary="Submit (or resubmit) a facility for verification",
        request=SubmitSerializer,
        responses={200: FacilityOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        facility = visible_facility(request, uuid)
        serializer = SubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        facility = services.facility_submit(
            actor=request.user,
            facility=facility,
            confirm_not_duplicate=serializer.validated_data["confirm_not_duplicate"],
            request=request,
        )
        return _facility_response(facility)


class FacilityVerifyView(APIView):
    @extend_schema(
        summary="Approve or reject a submitted facility (district officer)",
        request=VerifySerializer,
        responses={200: FacilityOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        facility = visible_facility(request, uuid)
        serializer = VerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        facility = services.facility_verify(
            actor=request.user, facility=facility, **serializer.validated_data, request=request
        )
        return _facility_response(facility)


class FacilityStatusView(APIView):
    action = ""

    @extend_schema(
        summary="Suspend, reinstate or close a facility (district officer)",
        request=StatusChangeSerializer,
        responses={200: FacilityOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        facility = visible_facility(request, uuid)
        serializer = StatusChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        facility = services.facility_change_status(
            actor=request.user,
            facility=facility,
            action=self.action,
            reason=serializer.validated_data["reason"],
            request=request,
        )
        return _facility_response(facility)


class CounterListCreateView(APIView):
    @extend_schema(summary="List a facility's counters", responses={200: CounterSerializer(many=True)}, tags=TAGS)
    def get(self, request, uuid):
        facility = visible_facility(request, uuid)
        return Response(CounterSerializer(selectors.facility_counters(facility=facility), many=True).data)

    @extend_schema(
        summary="Add a Scan & Share counter",
        request=CounterInSerializer,
        responses={201: CounterSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        facility = visible_facility(request, uuid)
        serializer = CounterInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        counter = services.counter_create(
            actor=request.user, facility=facility, **serializer.validated_data, request=request
        )
        return Response(CounterSerializer(counter).data, status=status.HTTP_201_CREATED)


class CounterDetailView(APIView):
    @extend_schema(
        summary="Rename or (de)activate a counter",
        request=CounterUpdateSerializer,
        responses={200: CounterSerializer},
        tags=TAGS,
    )
    def patch(self, request, uuid, code):
        facility = visible_facility(request, uuid)
        counter = get_object_or_404(Counter.objects.select_related("facility"), facility=facility, code=code.upper())
        serializer = CounterUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        counter = services.counter_update(
            actor=request.user, counter=counter, **serializer.validated_data, request=request
        )
        return Response(CounterSerializer(counter).data)


class TeamView(APIView):
    @extend_schema(summary="List a facility's team", responses={200: MembershipSerializer(many=True)}, tags=TAGS)
    def get(self, request, uuid):
        facility = visible_facility(request, uuid)
        return Response(MembershipSerializer(selectors.facility_team(facility=facility), many=True).data)

    @extend_schema(
        summary="Add a person to the team by mobile or email (facility admin)",
        request=InviteSerializer,
        responses={201: MembershipSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        facility = visible_facility(request, uuid)
        serializer = InviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_invite(
            actor=request.user, facility=facility, **serializer.validated_data, request=request
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class TeamMemberView(APIView):
    @extend_schema(
        summary="Remove a person from the team (facility admin)", responses={204: None, **errors(409)}, tags=TAGS
    )
    def delete(self, request, uuid, member):
        facility = visible_facility(request, uuid)
        membership = get_object_or_404(
            FacilityMembership.objects.select_related("user"), facility=facility, uuid=member
        )
        membership.facility = facility
        services.membership_remove(actor=request.user, membership=membership, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
