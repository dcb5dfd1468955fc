"""Facility registry API: thin views that parse input, call one service or selector, and render."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import errors
from core.services import password_set_link
from facilities import selectors, services
from facilities.enums import FacilityStatus, FacilityType
from facilities.models import Counter, Facility, FacilityMembership

from .filters import registry_list_filters, registry_list_parameters
from .serializers import (
    CounterInSerializer,
    CounterSerializer,
    CounterUpdateSerializer,
    DuplicateSerializer,
    FacilityInSerializer,
    FacilityOutSerializer,
    InvitationAnsweredSerializer,
    InvitationAnswerSerializer,
    InvitationSerializer,
    InviteSerializer,
    MembershipSerializer,
    StatusChangeSerializer,
    SubmitSerializer,
    VerifySerializer,
    validated,
)

TAGS = ["facilities"]
LIST_FILTERS = {"kind_param": "type", "kinds": FacilityType.values, "statuses": FacilityStatus.values}


def visible_facility(request, uuid) -> Facility:
    return selectors.visible_facility(user=request.user, uuid=uuid)


def _facility_response(facility, status_code=status.HTTP_200_OK):
    facility = Facility.objects.select_related("district", "state").get(pk=facility.pk)
    return Response(FacilityOutSerializer(facility).data, status=status_code)


class FacilityListCreateView(generics.ListAPIView):
    serializer_class = FacilityOutSerializer

    @extend_schema(
        summary="List facilities you may see",
        parameters=registry_list_parameters(
            **LIST_FILTERS, q="Part of the name, or the facility ID.", mine="Only facilities where you are a member."
        ),
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = registry_list_filters(self.request.query_params, **LIST_FILTERS)
        return selectors.facility_list(user=self.request.user, facility_type=filters.pop("kind"), **filters)

    @extend_schema(
        summary="Start a facility registration (a draft)",
        request=FacilityInSerializer,
        responses={201: FacilityOutSerializer},
        tags=TAGS,
    )
    def post(self, request):
        data = validated(FacilityInSerializer, request.data)
        facility = services.facility_create(actor=request.user, data=data, request=request)
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
        data = validated(FacilityInSerializer, request.data, partial=True)
        facility = services.facility_update(actor=request.user, facility=facility, data=data, request=request)
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
        data = validated(SubmitSerializer, request.data)
        facility = services.facility_submit(actor=request.user, facility=facility, **data, request=request)
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
        data = validated(VerifySerializer, request.data)
        facility = services.facility_verify(actor=request.user, facility=facility, **data, request=request)
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
        data = validated(StatusChangeSerializer, request.data)
        facility = services.facility_change_status(
            actor=request.user, facility=facility, action=self.action, **data, request=request
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
        data = validated(CounterInSerializer, request.data)
        counter = services.counter_create(actor=request.user, facility=facility, **data, request=request)
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
        data = validated(CounterUpdateSerializer, request.data)
        counter = services.counter_update(actor=request.user, counter=counter, **data, request=request)
        return Response(CounterSerializer(counter).data)


class TeamView(APIView):
    @extend_schema(summary="List a facility's team", responses={200: MembershipSerializer(many=True)}, tags=TAGS)
    def get(self, request, uuid):
        facility = visible_facility(request, uuid)
        return Response(MembershipSerializer(selectors.facility_team(facility=facility), many=True).data)

    @extend_schema(
        summary="Invite a person to the team by mobile (facility admin)",
        description="Sends an SMS with a link to accept or decline; the answer is the same for every mobile, and "
        "nobody joins the team (no account gets a role) until the invitee accepts. 409 `already_member` when "
        "someone in this team already has the mobile.",
        request=InviteSerializer,
        responses={201: InvitationSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        facility = visible_facility(request, uuid)
        data = validated(InviteSerializer, request.data)
        invitation = services.invitation_send(actor=request.user, facility=facility, **data, request=request)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationAnswerView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Accept or decline a team invitation (the invitee, with the token of the SMS link)",
        description="When the invited mobile has a staff account, accepting needs that account signed in (403 "
        "otherwise); else a new staff account is made and `password_set_url` is where it chooses its password. "
        "A citizen's account is never given a staff role. 404 for a link that is unknown, used or expired.",
        request=InvitationAnswerSerializer,
        responses={200: InvitationAnsweredSerializer, **errors(403, 404)},
        tags=TAGS,
    )
    def post(self, request):
        data = validated(InvitationAnswerSerializer, request.data)
        if data["decision"] == "decline":
            services.invitation_decline(token=data["token"], request=request)
            return Response({"status": "declined", "facility": None, "role": None, "password_set_url": None})
        user = request.user if request.user.is_authenticated else None
        membership, created = services.invitation_accept(token=data["token"], user=user, request=request)
        return Response(
            {
                "status": "accepted",
                "facility": membership.facility.name,
                "role": membership.role,
                "password_set_url": password_set_link(membership.user) if created else None,
            }
        )


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
