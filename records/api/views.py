"""Records and consent API: thin views that parse input, call one service or selector, render."""

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from abha.selectors import account_for_user
from core import access
from core.api.schema import errors
from core.exceptions import DomainError, NotAllowed
from facilities.enums import FacilityStatus
from facilities.models import Facility

from .. import hiu, selectors, services
from ..enums import LinkStatus
from ..fhir import kind_labels, with_labels
from ..linking.documents import record_bundle_text, record_summary
from ..models import ConsentRequest, LinkRequest
from .serializers import (
    AccessLogEntrySerializer,
    AccessLogOutSerializer,
    ArtefactOutSerializer,
    ArtefactRecordsOutSerializer,
    BreakGlassInSerializer,
    BreakGlassOutSerializer,
    BreakGlassRecordsOutSerializer,
    ConsentRequestInSerializer,
    ConsentRequestOutSerializer,
    GrantInSerializer,
    HiuArtefactRecordsOutSerializer,
    HiuConsentRequestInSerializer,
    HiuConsentRequestOutSerializer,
    LinkCandidateSerializer,
    LinkConfirmInSerializer,
    LinkDiscoverOutSerializer,
    LinkOutSerializer,
    LinkReviewInSerializer,
    LinkStartInSerializer,
    RecordInSerializer,
    RecordListOutSerializer,
    RecordOutSerializer,
    RecordReadSerializer,
)

TAGS = ["records"]
CONSENT_TAGS = ["consents"]


def _facility_by_id(facility_id: str, field: str) -> Facility:
    facility = Facility.objects.filter(facility_id=facility_id).first()
    if facility is None:
        raise DomainError(_("No facility has this ID."), fields={field: [_("Not found.")]})
    return facility


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _consent_request_fields(request, data: dict) -> dict:
    """What a doctor's consent request gives alike to the portal's consent service (issue 5's API) and to ABDM's
    (records.hiu): purpose, types, dates, access mode, frequency and the facility the doctor acts for."""
    frequency = data.get("frequency") or {}
    requester_facility = data.get("requester_facility")
    return {
        "actor": request.user,
        "purpose": data["purpose"],
        "hi_types": data["hi_types"],
        "date_from": data["date_from"],
        "date_to": data["date_to"],
        "data_erase_at": data["data_erase_at"],
        "access_mode": data["access_mode"],
        "frequency_unit": frequency.get("unit", "HOUR"),
        "frequency_value": frequency.get("value", 1),
        "frequency_repeats": frequency.get("repeats", 0),
        "facility": _facility_by_id(requester_facility, "requester_facility") if requester_facility else None,
        "request": request,
    }


def _request_out(consent_request: ConsentRequest) -> dict:
    consent_request = (
        ConsentRequest.objects.select_related("requester", "requester_facility", "source_facility")
        .prefetch_related("artefacts__source_facility", "artefacts__requester_facility")
        .get(pk=consent_request.pk)
    )
    return ConsentRequestOutSerializer(consent_request).data


class RecordListCreateView(APIView):
    @extend_schema(
        summary="Records of a patient: your facility's (staff) or your own (citizen); every read is audited",
        parameters=[OpenApiParameter("patient", OpenApiTypes.STR, description="ABHA number or address (staff).")],
        responses=RecordListOutSerializer,
        tags=TAGS,
    )
    def get(self, request):
        if access.scope(request.user, Facility.objects, "act_for").exists():
            identifier = request.query_params.get("patient", "")
            if not identifier:
                raise DomainError(_("Give the patient's ABHA number or address."), fields={"patient": [_("Required.")]})
            patient = services.patient_lookup(identifier)
            read = services.facility_records_read(actor=request.user, patient=patient, request=request)
        elif account_for_user(request.user) is not None:
            read = services.own_records_read(actor=request.user, request=request)
        else:
            raise NotAllowed(_("Only facility staff and the patient see records here."))
        data = RecordReadSerializer(read.records, many=True).data
        return Response({"count": len(data), "results": data})

    @extend_schema(
        summary="Add a FHIR document bundle for a patient (facility staff)",
        request=RecordInSerializer,
        responses={201: RecordOutSerializer, 200: RecordOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request):
        serializer = RecordInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("facility"):
            facility = _facility_by_id(data["facility"], "facility")
        else:
            facilities = list(access.scope(request.user, Facility.objects, "act_for")[:2])
            if len(facilities) != 1:
                raise DomainError(_("Choose the facility you act for."), fields={"facility": [_("Required.")]})
            facility = facilities[0]
        if not access.can(request.user, "act_for", facility):
            raise NotAllowed(_("You do not work at this facility."))
        identifier = data.get("abha_number") or data.get("abha_address")
        patient = services.patient_lookup(identifier) if identifier else None
        context = data["care_context"]
        record, created = services.record_add(
            actor=request.user,
            facility=facility,
            patient=patient,
            reference=context["reference"],
            display=context["display"],
            date=context["date"],
            hi_type=data["hi_type"],
            bundle=data["bundle"],
            demographics=data.get("demographics"),
            request=request,
        )
        return Response(
            RecordOutSerializer(record).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ConsentRequestListCreateView(generics.ListAPIView):
    serializer_class = ConsentRequestOutSerializer

    def get_queryset(self):
        return access.scope(
            self.request.user,
            ConsentRequest.objects.select_related("requester", "requester_facility", "source_facility")
            .prefetch_related("artefacts__source_facility", "artefacts__requester_facility")
            .order_by("-created_at", "-id"),
        )

    @extend_schema(summary="Your consent requests: a citizen's inbox, or a doctor's requests", tags=CONSENT_TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Request consent from a patient (doctor)",
        request=ConsentRequestInSerializer,
        responses={201: ConsentRequestOutSerializer},
        tags=CONSENT_TAGS,
    )
    def post(self, request):
        data = _valid(ConsentRequestInSerializer, request)
        consent_request = services.consent_request_create(
            **_consent_request_fields(request, data),
            patient_identifier=data["patient"],
            source_facility=_facility_by_id(data["facility"], "facility") if data.get("facility") else None,
        )
        return Response(_request_out(consent_request), status=status.HTTP_201_CREATED)


class ConsentGrantView(APIView):
    @extend_schema(
        summary="Grant a consent request, perhaps narrower (the patient)",
        request=GrantInSerializer,
        responses={200: ConsentRequestOutSerializer, **errors(409)},
        tags=CONSENT_TAGS,
    )
    def post(self, request, uuid):
        serializer = GrantInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        consent_request, _artefacts = services.consent_grant(
            actor=request.user,
            request_uuid=uuid,
            hi_types=data.get("hi_types"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            data_erase_at=data.get("data_erase_at"),
            facility_ids=data.get("facilities"),
            request=request,
        )
        return Response(_request_out(consent_request))


class ConsentDenyView(APIView):
    @extend_schema(
        summary="Deny a consent request (the patient)",
        request=None,
        responses={200: ConsentRequestOutSerializer, **errors(409)},
        tags=CONSENT_TAGS,
    )
    def post(self, request, uuid):
        consent_request = services.consent_deny(actor=request.user, request_uuid=uuid, request=request)
        return Response(_request_out(consent_request))


class ArtefactRevokeView(APIView):
    @extend_schema(
        summary="Revoke a granted consent (the patient)",
        request=None,
        responses={200: ArtefactOutSerializer, **errors(409)},
        tags=CONSENT_TAGS,
    )
    def post(self, request, uuid):
        artefact = services.artefact_revoke(actor=request.user, artefact_uuid=uuid, request=request)
        return Response(ArtefactOutSerializer(artefact).data)


def _records_json(records, *, with_bundles: bool) -> str:
    """The records as a JSON array, each with its summary and, `with_bundles`, its bundle spliced in as stored text
    (else `"bundle": null`).

    Same fields as ConsentRecordSerializer. The bundles are the bulk of the answer (10-50 KB each);
    passing PostgreSQL's JSON text through instead of decoding and re-encoding it, and building
    plain dicts instead of a serializer per record, keeps a 100-record read fast.
    """
    labels = kind_labels()
    timestamp = serializers.DateTimeField().to_representation
    parts = []
    for record in records:
        head = {
            "uuid": str(record.uuid),
            "hi_type": record.hi_type,
            "version": record.version,
            "title": record.title,
            "date": record.record_date.isoformat(),
            "facility": record.facility.facility_id,
            "facility_name": record.facility.name,
            "care_context": {
                "reference": record.care_context.reference,
                "display": record.care_context.display,
                "date": record.care_context.date.isoformat(),
            },
            "created_at": timestamp(record.created_at),
            "summary": with_labels(record_summary(record), labels),
        }
        bundle = record_bundle_text(record, record.bundle_text) if with_bundles else "null"
        parts.append(f'{json.dumps(head, ensure_ascii=False)[:-1]},"bundle":{bundle}}}')
    return "[" + ",".join(parts) + "]"


class ArtefactRecordsView(APIView):
    @extend_schema(
        summary="Records covered by a granted consent (the requesting doctor); 403 consent_inactive otherwise",
        description=(
            "Under a consent granted with access mode `STORE` each record carries its FHIR `bundle`. Under `VIEW` "
            "`bundle` is null and the record is what the page shows (`summary`): a view-only consent never hands out "
            "a copy, here or as the page's download (403 `view_only_consent`). Every read is audited and shown to "
            "the patient."
        ),
        responses={200: ArtefactRecordsOutSerializer, **errors(429)},  # 429 frequency_exceeded
        tags=CONSENT_TAGS,
    )
    def get(self, request, uuid):
        read = services.artefact_records_read(actor=request.user, artefact_uuid=uuid, request=request)
        artefact = JSONRenderer().render(ArtefactOutSerializer(read.artefact).data).decode()
        records = _records_json(read.records, with_bundles=read.artefact.allows_copies)
        body = f'{{"artefact":{artefact},"count":{len(read.records)},"records":{records}}}'
        return HttpResponse(body, content_type="application/json")


class BreakGlassCreateView(APIView):
    @extend_schema(
        summary="Emergency access to a patient's records (doctor; short, audited, reviewed)",
        request=BreakGlassInSerializer,
        responses={201: BreakGlassOutSerializer},
        tags=CONSENT_TAGS,
    )
    def post(self, request):
        serializer = BreakGlassInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        grant = services.btg_grant(
            actor=request.user,
            patient_identifier=data["patient"],
            reason=data["reason"],
            facility=_facility_by_id(data["facility"], "facility") if data.get("facility") else None,
            request=request,
        )
        return Response(BreakGlassOutSerializer(grant).data, status=status.HTTP_201_CREATED)


class BreakGlassRecordsView(APIView):
    @extend_schema(
        summary="Records under an active emergency access", responses=BreakGlassRecordsOutSerializer, tags=CONSENT_TAGS
    )
    def get(self, request, uuid):
        read = services.btg_records_read(actor=request.user, grant_uuid=uuid, request=request)
        return Response(
            {
                "btg": BreakGlassOutSerializer(read.grant).data,
                "count": len(read.records),
                "records": RecordReadSerializer(read.records, many=True).data,
            }
        )


def _verified_facility(facility_id: str) -> Facility:
    facility = Facility.objects.filter(facility_id=facility_id, status=FacilityStatus.VERIFIED).first()
    if facility is None:
        raise DomainError(_("No facility has this ID."), fields={"facility": [_("Not found.")]})
    return facility


def _link_out(link) -> dict:
    link = LinkRequest.objects.select_related("facility", "patient").prefetch_related("care_contexts").get(pk=link.pk)
    return LinkOutSerializer(link).data


class LinkDiscoverView(APIView):
    @extend_schema(
        summary="Visits a facility holds for you by mobile, gender and year of birth (citizen)",
        parameters=[OpenApiParameter("facility", OpenApiTypes.STR, required=True)],
        responses=LinkDiscoverOutSerializer,
        tags=TAGS,
    )
    def get(self, request):
        account = account_for_user(request.user)
        if account is None:
            raise NotAllowed(_("Only a citizen with an ABHA links records."))
        facility = _verified_facility(request.query_params.get("facility", ""))
        matches = [
            {"care_context": cc.uuid, "display": cc.display, "date": cc.date, "match": match}
            for cc, match in services.link_candidates(account, facility)
        ]
        return Response({"facility": facility.facility_id, "matches": LinkCandidateSerializer(matches, many=True).data})


class LinkStartView(APIView):
    @extend_schema(
        summary="Claim visits found for you; an OTP goes to your ABHA mobile (citizen)",
        request=LinkStartInSerializer,
        responses={201: LinkOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request):
        serializer = LinkStartInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = services.link_start(
            actor=request.user,
            facility=_verified_facility(serializer.validated_data["facility"]),
            care_context_uuids=serializer.validated_data["care_contexts"],
            request=request,
        )
        return Response(_link_out(link), status=status.HTTP_201_CREATED)


class LinkConfirmView(APIView):
    @extend_schema(
        summary="Confirm with the OTP: linked now (strong match) or sent to the facility's review (weak)",
        request=LinkConfirmInSerializer,
        responses={200: LinkOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        serializer = LinkConfirmInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = services.link_confirm_counted(
            actor=request.user, link_uuid=uuid, otp=serializer.validated_data["otp"], request=request
        )
        return Response(_link_out(link))


class LinkReviewListView(generics.ListAPIView):
    serializer_class = LinkOutSerializer

    def get_queryset(self):
        return (
            access.scope(self.request.user, LinkRequest.objects, "review")
            .filter(status=LinkStatus.NEEDS_REVIEW)
            .select_related("facility", "patient")
            .prefetch_related("care_contexts")
            .order_by("created_at", "id")
        )

    @extend_schema(summary="Weak matches waiting for your facility's review (staff)", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class LinkReviewView(APIView):
    @extend_schema(
        summary="Link or refuse a weak match (facility staff)",
        request=LinkReviewInSerializer,
        responses={200: LinkOutSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        serializer = LinkReviewInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = services.link_review(
            actor=request.user, link_uuid=uuid, approve=serializer.validated_data["approve"], request=request
        )
        return Response(_link_out(link))


class AccessLogView(APIView):
    @extend_schema(
        summary="Who accessed my records (citizen), newest first",
        responses=AccessLogOutSerializer,
        tags=["abha"],
    )
    def get(self, request):
        account = account_for_user(request.user)
        if account is None:
            raise NotAllowed(_("Only a citizen with an ABHA has an access log."))
        events = list(selectors.access_log_for(account))
        return Response({"count": len(events), "results": AccessLogEntrySerializer(events, many=True).data})


# --- Consent through ABDM (records.hiu) --------------------------------------------------------------------------


class HiuConsentRequestListCreateView(APIView):
    @extend_schema(
        summary="Your consent requests through ABDM (doctor), newest first, with their artefacts",
        responses={200: HiuConsentRequestOutSerializer(many=True)},
        tags=CONSENT_TAGS,
    )
    def get(self, request):
        if not hasattr(request.user, "role") or request.user.role != "doctor":
            raise NotAllowed(_("Only doctors request consent."))
        requests = hiu.requests_for_doctor(request.user)[:100]
        return Response(HiuConsentRequestOutSerializer(requests, many=True).data)

    @extend_schema(
        summary="Request consent through ABDM's consent manager (doctor); the patient answers in their ABHA app",
        description=(
            "Sent through the outbox (hiecm-m3 consent request init): `status` is QUEUED until ABDM answers, then "
            "REQUESTED with ABDM's `consent_request_id` (or FAILED with ABDM's `error`)."
        ),
        request=HiuConsentRequestInSerializer,
        responses={201: HiuConsentRequestOutSerializer},
        tags=CONSENT_TAGS,
    )
    def post(self, request):
        data = _valid(HiuConsentRequestInSerializer, request)
        consent_request = hiu.consent_request_create(
            **_consent_request_fields(request, data),
            patient_address=data["patient"],
            hip_id=data.get("hip_id", "").strip(),
        )
        return Response(HiuConsentRequestOutSerializer(consent_request).data, status=status.HTTP_201_CREATED)


class HiuArtefactRecordsView(APIView):
    @extend_schema(
        summary="Records received through ABDM under an artefact (the requesting doctor); 403 consent_inactive once "
        "it is revoked or past dataEraseAt",
        description="Under `STORE` each record carries its FHIR `bundle`; under `VIEW` `bundle` is null.",
        responses={200: HiuArtefactRecordsOutSerializer},
        tags=CONSENT_TAGS,
    )
    def get(self, request, uuid):
        artefact, records = hiu.artefact_read(actor=request.user, artefact_uuid=uuid, request=request)
        body = {
            "artefact": artefact,
            "count": len(records),
            "records": [
                {
                    "uuid": r.uuid,
                    "care_context_reference": r.care_context_reference,
                    "hi_type": r.hi_type,
                    "title": r.title,
                    "record_date": r.record_date,
                    "summary": with_labels(r.summary),
                    "bundle": r.bundle if artefact.allows_copies else None,
                }
                for r in records
            ],
        }
        return Response(HiuArtefactRecordsOutSerializer(body).data)
