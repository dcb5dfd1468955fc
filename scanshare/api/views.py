"""Scan & Share API: a citizen shares at a counter; facility staff read the queue and move tokens."""

import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from abha import selectors as abha_selectors
from core import access
from core.api.schema import errors
from core.exceptions import DomainError, NotAllowed, NotFound
from facilities.models import Facility

from .. import selectors, services
from ..models import ScanToken
from .serializers import QueueTokenSerializer, ShareInSerializer, TokenOutSerializer, token_body

TAGS = ["scan-share"]


def _token_response(token, created: bool) -> Response:
    return Response(token_body(token), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ShareView(APIView):
    @extend_schema(
        summary="Share your ABHA profile at a counter and get an OPD token",
        description="201 with a new token; 200 with the same token for a repeat share within its validity.",
        request=ShareInSerializer,
        responses={201: TokenOutSerializer, 200: TokenOutSerializer, **errors(404, 409)},
        tags=TAGS,
    )
    def post(self, request):
        account = abha_selectors.account_for_user(request.user)
        if account is None:
            raise NotAllowed(_("Only a citizen signed in with their ABHA can share a profile."), code="not_citizen")
        data = ShareInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, created = services.token_issue(
            account=account,
            actor=request.user,
            hip_id=data.validated_data["hip_id"],
            counter_code=data.validated_data["counter_id"],
            request=request,
        )
        return _token_response(token, created)


class QueueView(generics.ListAPIView):
    serializer_class = QueueTokenSerializer

    @extend_schema(
        summary="A facility's Scan & Share tokens for a day (staff)",
        parameters=[
            OpenApiParameter("counter", OpenApiTypes.STR, description="A counter code; all counters if absent."),
            OpenApiParameter("date", OpenApiTypes.DATE, description="The local day; today if absent."),
        ],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        facility = get_object_or_404(Facility, uuid=self.kwargs["uuid"])
        if not access.can(self.request.user, "view", facility):
            raise Http404
        if not access.can(self.request.user, "act_for", facility):
            raise NotAllowed(_("Only this facility's staff can see its counter queue."))
        params = self.request.query_params
        counter = None
        if code := params.get("counter"):
            counter = facility.counters.filter(code=code.upper()).first()
            if counter is None:
                message = _("This facility has no counter %(code)s.") % {"code": code}
                raise NotFound(message, code="unknown_counter")
        day = None
        if raw := params.get("date"):
            try:
                day = datetime.date.fromisoformat(raw)
            except ValueError:
                message = _("Give the date as YYYY-MM-DD.")
                raise DomainError(message, code="invalid", fields={"date": [message]}) from None
        return selectors.queue_tokens(facility=facility, counter=counter, day=day)


class TokenStepView(APIView):
    step = ""

    @extend_schema(
        summary="Move a token: call, done or no-show (staff)",
        request=None,
        responses={200: TokenOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        token = get_object_or_404(ScanToken.objects.select_related("facility", "counter"), uuid=uuid)
        if not access.can(request.user, "view", token.facility):
            raise Http404
        token = services.token_move(token=token, actor=request.user, step=self.step, request=request)
        return _token_response(token, created=False)
