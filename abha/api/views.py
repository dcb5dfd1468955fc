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
from ..enums import Channel
from ..identifiers import address_full
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
        summary="Start an ABHA enrollment: ABDM sends an Aadhaar OTP",
        description="Checks the consent version and the Aadhaar number (Verhoeff) first; then ABDM (M1 "
        "`/v3/enrollment/request/otp`) asks UIDAI to send an OTP to the Aadhaar-linked mobile. The Aadhaar number "
        "is sent encrypted and never kept. Facility staff may pass `facility_id` for an assisted enrollment. "
        "503 `abdm_unavailable` (with Retry-After) when ABDM is not answering.",
        request=s.EnrolmentOtpIn,
        responses={201: s.TxnOut, **errors(403, 409, 503)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.EnrolmentOtpIn, request.data)
        txn = services.enrolment_start(
            aadhaar=data["aadhaar"],
            consent_version=data["consent_version"],
            actor=request.user,
            ip=client_ip(request),
            facility=_facility(data.get("facility_id")),
            channel=Channel.CAMP if data.get("camp") else Channel.ASSISTED,
        )
        return Response({"txn_id": txn.uuid, "mobile": txn.draft.get("sent_to", "")}, status=status.HTTP_201_CREATED)


class OtpResendView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Send the mobile's OTP again (after 60 s)",
        description="Only for the mobile verification step of an enrollment (an Aadhaar OTP is asked for again "
        "with the Aadhaar number at /enrolment/otp/).",
        request=s.TxnIn,
        responses={200: s.TxnOut, **errors(404, 409, 503)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.TxnIn, request.data)
        txn = services.enrolment_mobile_resend(txn_id=data["txn_id"], ip=client_ip(request))
        return Response({"txn_id": txn.uuid, "mobile": mask_mobile(txn.mobile)})


class LoginOtpResendView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Send the sign-in OTP again (after 60 s, at most 3 times)",
        request=s.TxnIn,
        responses={200: s.TxnOut, **errors(404, 409, 503)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.TxnIn, request.data)
        txn = services.login_resend(txn_id=data["txn_id"], ip=client_ip(request))
        return Response({"txn_id": txn.uuid, "mobile": txn.draft.get("sent_to") or mask_mobile(txn.mobile)})


class EnrolmentVerifyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Verify the Aadhaar OTP: ABDM creates the ABHA",
        description="Sends the OTP and the ABHA's mobile to ABDM (M1 `/v3/enrollment/enrol/byAadhaar`). "
        "`is_new` false: this Aadhaar already has an ABHA and ABDM returned it (nothing is created; sign in to "
        "it). `mobile_verification_required` true: ABDM sent an OTP to the mobile, verify it at "
        "/enrolment/mobile/verify/. A wrong OTP answers 400 `otp_invalid`; an expired transaction 404 "
        "`txn_expired`; a mobile with 6 ABHAs 409 `mobile_limit`.",
        request=s.AadhaarVerifyIn,
        responses={200: s.EnrolmentVerifiedOut, **errors(404, 409, 503)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.AadhaarVerifyIn, request.data)
        verified = services.enrolment_verify_aadhaar(
            txn_id=data["txn_id"], otp=data["otp"], mobile=data["mobile"], actor=request.user, request=request
        )
        primary = verified.account.primary_address
        return Response(
            {
                "txn_id": verified.txn.uuid,
                "is_new": verified.is_new,
                "mobile_verification_required": verified.mobile_pending,
                "abha_number": verified.account.abha_number_display,
                "abha_address": primary.full if primary else "",
            }
        )


class EnrolmentMobileVerifyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Verify the ABHA's mobile with the OTP ABDM sent to it",
        description="M1 `/v3/enrollment/auth/byAbdm`. A wrong OTP answers 400 `otp_invalid`.",
        request=s.VerifyIn,
        responses={200: s.VerifiedOut, **errors(404, 409, 503)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.VerifyIn, request.data)
        txn = services.enrolment_verify_mobile(txn_id=data["txn_id"], otp=data["otp"])
        return Response({"txn_id": txn.uuid, "verified": True})


def _verified_txn(request):
    return services.enrolment_verified(txn_id=request.query_params.get("txn_id", ""))


class SuggestionsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="ABDM's free ABHA address suggestions",
        description="M1 `/v3/enrollment/enrol/suggestion` for this enrollment (after the ABHA is created and its "
        "mobile verified). The default `<ABHA number>@suffix` is always available on top of these.",
        parameters=[OpenApiParameter("txn_id", OpenApiTypes.UUID, required=True)],
        responses={200: s.SuggestionsOut, **errors(404, 409, 503)},
        tags=TAGS,
    )
    def get(self, request):
        suggestions = services.enrolment_suggestions(txn_id=request.query_params.get("txn_id", ""))
        return Response({"suggestions": [address_full(local) for local in suggestions[:5]]})


class AddressCheckView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Does this ABHA address follow the rules, and is it free as far as the portal knows?",
        description="ABDM has the final word when the address is claimed at /enrolment/complete/.",
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
        summary="Choose the ABHA address and end the enrollment",
        description="Claims `abha_address` at ABDM (M1 `/v3/enrollment/enrol/abha-address`) as the preferred "
        "address, or keeps the default `<ABHA number>@suffix` when it is empty. 409 `abha_address_taken` when ABDM "
        "has it already (the enrollment stays open: choose another).",
        request=s.CompleteIn,
        responses={201: s.AccountOut, **errors(404, 409, 503)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.CompleteIn, request.data)
        account = services.enrolment_complete(
            txn_id=data["txn_id"], abha_address=data.get("abha_address") or None, actor=request.user, request=request
        )
        return Response(s.AccountOut(account).data, status=status.HTTP_201_CREATED)


class LoginOtpView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Citizen sign-in: ABDM sends an OTP",
        description="`login_id` is an ABHA number (dashes optional), an ABHA address or a mobile number; ABDM "
        "(M1 `/v3/profile/login/request/otp`) sends the OTP to the ABHA's mobile. The answer is the same whether or "
        "not it names an ABHA (for one that does not, the verification fails like a wrong OTP); requests count "
        "per identifier and per client address (429).",
        request=s.LoginOtpIn,
        responses={201: s.TxnOut, **errors(429, 503)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.LoginOtpIn, request.data)
        txn = services.login_start(login_id=data["login_id"], ip=client_ip(request))
        mobile = txn.draft.get("sent_to") or mask_mobile(txn.mobile)
        return Response({"txn_id": txn.uuid, "mobile": mobile}, status=status.HTTP_201_CREATED)


class LoginVerifyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Citizen sign-in: verify the OTP and get a token",
        description="ABDM checks the OTP (M1 `/v3/profile/login/verify`). When the mobile holds several ABHAs and "
        "no `abha_number` is given, the answer has `token: null` and the `accounts` to choose from; call again with "
        "the same `txn_id` and `abha_number` (the OTP is not needed again: the transaction is verified, single-use "
        "and bound to the ABHAs listed). The token is new at each sign-in (the previous one stops working) and ends "
        "CITIZEN_TOKEN_HOURS (24) after it, or at `POST /api/v1/auth/sign-out/`.",
        request=s.LoginVerifyIn,
        responses={200: s.LoginVerifyOut, **errors(404, 409, 503)},
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.LoginVerifyIn, request.data)
        txn = services.login_verify(txn_id=data["txn_id"], otp=data.get("otp", ""), ip=client_ip(request))
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
        summary="ABDM's ABHA card, as ABDM sends it (an image)",
        description="M1 `/v3/profile/account/abha-card` with the citizen's ABDM token (refreshed when it expired). "
        "401 `abdm_sign_in_again` when ABDM's session ended: sign in again.",
        responses={(200, "image/png"): OpenApiTypes.BINARY, **errors(401, 503)},
        tags=TAGS,
    )
    def get(self, request):
        abdm_card = services.account_card(account=_own_account(request))
        response = HttpResponse(abdm_card.content, content_type=abdm_card.content_type)
        response["Content-Disposition"] = f'inline; filename="abha-card.{card.extension(abdm_card.content_type)}"'
        response["Cache-Control"] = "private, no-store"
        return response


class CardPdfView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="ABDM's ABHA card on a one-page A4 PDF",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **errors(401, 503)},
        tags=TAGS,
    )
    def get(self, request):
        response = HttpResponse(card.as_pdf(services.account_card(account=_own_account(request))))
        response["Content-Type"] = "application/pdf"
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
