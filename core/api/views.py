from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api.params import query_int
from core.models import District
from core.services import audit_record

from .serializers import DistrictSerializer, MeSerializer, TokenRequestSerializer, TokenSerializer


class TokenView(APIView):
    """Exchange a staff username and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        summary="Get an API token", request=TokenRequestSerializer, responses={200: TokenSerializer}, tags=["auth"]
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        audit_record(actor=user, action="auth.token_issued", target=user, request=request)
        return Response({"token": token.key}, status=status.HTTP_200_OK)


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
