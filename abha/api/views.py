"""ABHA API: enrollment (otp -> verify -> suggestions -> complete), citizen sign-in, me, card, lookup.

Thin views: parse with an input serializer, call one service or selector, answer with an output
serializer. Domain errors become the common error shape in core.api.errors.
"""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core.api.schema import errors
from core.exceptions import DomainError, NotAllowed, NotFound
from core.services import api_token_issue, client_ip
from core.sms import mask_mobile

from .. import card, selectors, services
from ..enums import Channel, OtpPurpose
from ..identifiers import address_candidates, address_full
from ..models import AbhaAccount
from . import serializers as s

TAGS = ["abha"]


def _facility(facility_id: str | None):
    if not facility_id:
        return None
    from facilities.models import Facility

    facility = Facility.objects.filter(facility_id=facility_id).first()
    if facility is None:
        message = _("No facility has this ID.")
        raise DomainError(message, code="invalid", fields={"facility_id": [message]})
    return facility


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class EnrolmentOtpView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Start an ABHA enrollment: send an OTP to the mobile",
        description="Checks the consent version and the limit of 6 ABHAs per mobile before sending. "
        "Facility staff may pass `facility_id` for an assisted enrollment (the citizen still gets the OTP).",
        request=s.EnrolmentOtpIn,
        responses={201: s.TxnOut, **errors(403, 409)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.EnrolmentOtpIn, request.data)
        txn = services.enrolment_start(
            mobile=data["mobile"],
            consent_version=data["consent_version"],
            actor=request.user,
            ip=client_ip(request),
            facility=_facility(data.get("facility_id")),
            channel=Channel.CAMP if data.get("camp") else Channel.ASSISTED,
        )
        return Response({"txn_id": txn.uuid, "mobile": mask_mobile(txn.mobile)}, status=status.HTTP_201_CREATED)


class OtpResendView(APIView):
    permission_classes = [AllowAny]
    purpose = OtpPurpose.ENROL

    @extend_schema(
        summary="Send the OTP again (after 60 s, at most 3 times)",
        request=s.TxnIn,
        responses={200: s.TxnOut, **errors(404, 409)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.TxnIn, request.data)
        txn = services.otp_resend(txn_id=data["txn_id"], purpose=self.purpose, ip=client_ip(request))
        return Response({"txn_id": txn.uuid, "mobile": mask_mobile(txn.mobile)})


class LoginOtpResendView(OtpResendView):
    purpose = OtpPurpose.LOGIN


class EnrolmentVerifyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Verify the enrollment OTP",
        description="A wrong OTP answers 400 `otp_invalid` with the attempts left; the 5th locks the "
        "transaction (409 `otp_locked`); after 10 minutes 400 `otp_expired`.",
        request=s.VerifyIn,
        responses={200: s.VerifiedOut, **errors(404, 409)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.VerifyIn, request.data)
        txn = services.otp_verify(
            txn_id=data["txn_id"], otp=data["otp"], purpose=OtpPurpose.ENROL, ip=client_ip(request)
        )
        return Response({"txn_id": txn.uuid, "verified": True})


def _verified_txn(request):
    return services.enrolment_verified(txn_id=request.query_params.get("txn_id", ""))


class SuggestionsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Suggest free ABHA addresses",
        description="At least 3 free addresses built from the name and year of birth (query parameters, "
        "or the details already saved for this enrollment). The default `<ABHA number>@suffix` is always "
        "available on top of these.",
        parameters=[
            OpenApiParameter("txn_id", OpenApiTypes.UUID, required=True),
            OpenApiParameter("first_name", OpenApiTypes.STR),
            OpenApiParameter("last_name", OpenApiTypes.STR),
            OpenApiParameter("year_of_birth", OpenApiTypes.INT),
        ],
        responses={200: s.SuggestionsOut, **errors(404, 409)},
        tags=TAGS,
    )
    def get(self, request):
        txn = _verified_txn(request)
        params = request.query_params
        year = params.get("year_of_birth") or txn.draft.get("year_of_birth")
        suggestions = selectors.addresses_available(
            address_candidates(
                first_name=params.get("first_name") or txn.draft.get("first_name", ""),
                last_name=params.get("last_name") or txn.draft.get("last_name", ""),
                year_of_birth=int(year) if str(year or "").isdecimal() else None,
            )
        )
        return Response({"suggestions": [address_full(local) for local in suggestions[:5]]})


class AddressCheckView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Is this ABHA address valid and free?",
        parameters=[
            OpenApiParameter("txn_id", OpenApiTypes.UUID, required=True),
            OpenApiParameter("abha_address", OpenApiTypes.STR, required=True),
        ],
        responses={200: s.AddressCheckOut, **errors(404, 409)},
        tags=TAGS,
    )
    def get(self, request):
        _verified_txn(request)
        return Response(selectors.address_availability(request.query_params.get("abha_address", "")))


class EnrolmentCompleteView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Create the ABHA",
        description="Needs a verified transaction. 409 `aadhaar_has_abha` when the Aadhaar already has an "
        "ABHA, 409 `abha_address_taken`, 409 `mobile_limit` (6 ABHAs per mobile). One transaction: "
        "nothing is created on any error.",
        request=s.CompleteIn,
        responses={201: s.AccountOut, **errors(404, 409)},
        tags=TAGS,
    )
    def post(self, request):
        data = dict(_valid(s.CompleteIn, request.data))
        txn_id = data.pop("txn_id")
        aadhaar = data.pop("aadhaar", "") or None
        abha_address = data.pop("abha_address", "") or None
        account = services.enrolment_complete(
            txn_id=txn_id, data=data, aadhaar=aadhaar, abha_address=abha_address, actor=request.user, request=request
        )
        return Response(s.AccountOut(account).data, status=status.HTTP_201_CREATED)


class LoginOtpView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Citizen sign-in: send an OTP",
        description="`login_id` is an ABHA number (dashes optional), an ABHA address or a mobile number. "
        "The answer is the same whether or not it names an ABHA (for one that does not, nothing is sent and the "
        "verification fails like a wrong OTP); requests count per identifier and per client address (429).",
        request=s.LoginOtpIn,
        responses={201: s.TxnOut, **errors(429)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.LoginOtpIn, request.data)
        txn = services.login_start(login_id=data["login_id"], ip=client_ip(request))
        return Response({"txn_id": txn.uuid, "mobile": mask_mobile(txn.mobile)}, status=status.HTTP_201_CREATED)


class LoginVerifyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Citizen sign-in: verify the OTP and get a token",
        description="When the mobile holds several ABHAs and no `abha_number` is given, the answer has "
        "`token: null` and the `accounts` to choose from; call again with `abha_number` (same OTP, checked "
        "again: wrong ones count towards the lock). Only an account listed then can be chosen, once. "
        "The token is new at each sign-in (the previous one stops working) and ends CITIZEN_TOKEN_HOURS (24) "
        "after it, or at `POST /api/v1/auth/sign-out/`.",
        request=s.LoginVerifyIn,
        responses={200: s.LoginVerifyOut, **errors(404, 409)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.LoginVerifyIn, request.data)
        txn = services.otp_verify(
            txn_id=data["txn_id"], otp=data["otp"], purpose=OtpPurpose.LOGIN, ip=client_ip(request)
        )
        candidates = services.login_candidates(txn)
        if len(candidates) > 1 and not data.get("abha_number"):
            accounts = [{"abha_number": a.abha_number_display, "name": a.full_name} for a in candidates]
            return Response({"token": None, "accounts": accounts})
        account = services.login_finish(txn_id=txn.uuid, abha_number=data.get("abha_number"), request=request)
        token = api_token_issue(user=account.user, request=request)
        return Response({"token": token.key, "abha_number": account.abha_number_display})


def _own_account(request) -> AbhaAccount:
    account = selectors.account_for_user(request.user)
    if account is None:
        raise NotAllowed(_("Only a citizen signed in to their ABHA can do this."))
    return account


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="The signed-in citizen's ABHA profile", responses={200: s.AccountOut}, tags=TAGS)
    def get(self, request):
        return Response(s.AccountOut(_own_account(request)).data)


class CardPngView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="The ABHA card as a PNG image", responses={(200, "image/png"): OpenApiTypes.BINARY}, tags=TAGS
    )
    def get(self, request):
        response = HttpResponse(card.card_png(_own_account(request)), content_type="image/png")
        response["Content-Disposition"] = 'inline; filename="abha-card.png"'
        response["Cache-Control"] = "private, no-store"
        return response


class CardPdfView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="The ABHA card as a one-page A4 PDF",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        tags=TAGS,
    )
    def get(self, request):
        response = HttpResponse(card.card_pdf(_own_account(request)), content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="abha-card.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response


class LookupView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Verify an ABHA (facility staff): minimal profile by number or address",
        parameters=[OpenApiParameter("id", OpenApiTypes.STR, required=True, description="ABHA number or address")],
        responses={200: s.LookupOut, **errors(404)},
        tags=TAGS,
    )
    def get(self, request):
        if not access.can(request.user, "lookup", AbhaAccount):
            raise NotAllowed(_("Only facility staff may look up ABHAs."))
        identifier = request.query_params.get("id", "").strip()
        if not identifier:
            message = _("Give an ABHA number or ABHA address.")
            raise DomainError(message, code="invalid", fields={"id": [message]})
        account = selectors.account_by_identifier(identifier)
        if account is not None and not account.is_active:
            account = None  # a deactivated ABHA is hidden from hospitals until its owner reactivates it
        services.lookup_audit(actor=request.user, account=account, identifier=identifier, request=request)
        if account is None:
            raise NotFound(_("No ABHA was found for what you entered."), code="abha_not_found")
        return Response(s.LookupOut(account).data)
