from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api.params import query_int
from core.models import District
from core.services import api_token_issue, api_token_revoke

from .serializers import DistrictSerializer, MeSerializer, TokenRequestSerializer, TokenSerializer


class TokenView(APIView):
    """Exchange a staff username and password for an API token (a new one each time: the previous one stops
    working). It ends after STAFF_IDLE_MINUTES unused, or at `POST /api/v1/auth/sign-out/`."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        summary="Get an API token",
        description="Each call issues a new token and revokes the previous one. A staff token ends after "
        "STAFF_IDLE_MINUTES (30 by default) without a call; a citizen's (from the ABHA sign-in) CITIZEN_TOKEN_HOURS "
        "(24) after sign-in. Then calls answer 401: sign in again.",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer},
        tags=["auth"],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token = api_token_issue(user=user, request=request)
        return Response({"token": token.key}, status=status.HTTP_200_OK)


class SignOutView(APIView):
    """The API sign-out: the caller's token stops working (staff and citizens alike)."""

    @extend_schema(
        summary="Sign out: revoke the API token",
        description="The caller's token stops working at once; sign in again for a new one.",
        request=None,
        responses={204: None},
        tags=["auth"],
    )
    def post(self, request):
        api_token_revoke(user=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(summary="Who am I", responses={200: MeSerializer}, tags=["auth"])
    def get(self, request):
        return Response(MeSerializer(request.user).data)


@extend_schema(
    summary="List districts of a state (LGD)",
    parameters=[OpenApiParameter("state", OpenApiTypes.INT, description="The state's LGD code, e.g. 24.")],
    tags=["geography"],
)
class DistrictListView(generics.ListAPIView):
    """Districts by LGD code; `?state=24` narrows to one state. Public reference data."""

    serializer_class = DistrictSerializer
    permission_classes = [AllowAny]

    def get_queryset(self):
        districts = District.objects.order_by("name")
        state = query_int(self.request.query_params, "state", message=_("Give the state's numeric LGD code, e.g. 24."))
        if state is not None:
            districts = districts.filter(state_id=state)
        return districts
