"""Record-linking jobs API: upload (202 + job URL), progress, the error report, cancel, reviews."""

from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core.api.schema import errors
from core.exceptions import DomainError

from ..abdm_linking import job_abdm_progress
from ..models import LinkingJob
from . import files, selectors, services

TAGS = ["linking jobs"]


class JobUploadInSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    facility = serializers.CharField(help_text="The facility's ID (IN...) or UUID.")


class JobCreatedSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    status = serializers.CharField()
    url = serializers.CharField(help_text="The job's API URL (poll it for progress).")
    page = serializers.CharField(help_text="The job's page in the portal.")


class JobSerializer(serializers.ModelSerializer):
    facility = serializers.CharField(source="facility.facility_id")
    failed = serializers.IntegerField(source="failed_rows")
    rows_per_second = serializers.FloatField()
    eta_seconds = serializers.IntegerField(allow_null=True)
    percent = serializers.IntegerField()
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = LinkingJob
        fields = [
            "uuid",
            "facility",
            "original_name",
            "file_format",
            "status",
            "total",
            "processed",
            "linked",
            "duplicates",
            "needs_review",
            "failed",
            "rows_per_second",
            "eta_seconds",
            "percent",
            "created_at",
            "started_at",
            "finished_at",
            "errors_url",
        ]

    def get_errors_url(self, job) -> str:
        return reverse("api-linking-job-errors", args=[job.uuid])


class AbdmProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Care contexts of this job to link on ABDM (rows linked to an ABHA).")
    linked = serializers.IntegerField(help_text="Confirmed as linked by ABDM.")
    failed = serializers.IntegerField(help_text="Refused by ABDM (listed by row in the error report).")
    waiting = serializers.IntegerField(help_text="Sent or waiting to be sent (ABDM's answer has not come yet).")


class JobDetailSerializer(JobSerializer):
    abdm = serializers.SerializerMethodField(help_text="The job's care contexts on ABDM: the second progress line.")

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "abdm"]

    @extend_schema_field(AbdmProgressSerializer)
    def get_abdm(self, job) -> dict:
        return job_abdm_progress(job)


class CandidateSerializer(serializers.Serializer):
    """Only a key for this review and the masked ABHA number: never the holder's name, gender or year of birth."""

    account = serializers.UUIDField(source="key", help_text="This candidate's key in this review (for `account`).")
    abha_number_masked = serializers.CharField()


class ReviewSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    job = serializers.UUIDField(source="job.uuid")
    row_number = serializers.IntegerField()
    care_context = serializers.CharField(source="care_context.reference")
    display = serializers.CharField(source="care_context.display")
    date = serializers.DateField(source="care_context.date")
    patient_name = serializers.CharField(source="care_context.patient_name")
    patient_gender = serializers.CharField(source="care_context.patient_gender")
    patient_year_of_birth = serializers.IntegerField(source="care_context.patient_year_of_birth")
    status = serializers.CharField()
    candidates = CandidateSerializer(many=True)


class ReviewListOutSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = ReviewSerializer(many=True)


class ReviewDecisionInSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["link", "reject"])
    account = serializers.UUIDField(required=False, allow_null=True, help_text="The candidate to link (decision link).")


class TooLarge(DomainError):
    status = 413
    code = "too_large"


def _refuse_oversized(request) -> None:
    """Refuse a too-large upload from its Content-Length, before its body is read."""
    if files.upload_too_large(request):
        message = files.too_large_message()
        raise TooLarge(message, fields={"file": [message]})


class JobListCreateView(generics.ListAPIView):
    serializer_class = JobSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return access.scope(self.request.user, LinkingJob.objects.select_related("facility")).order_by("-created_at")

    @extend_schema(summary="Linking jobs of your facilities (state officials: all)", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Upload a batch (CSV, NDJSON of FHIR bundles, or ZIP of a CSV with PDFs) to link to ABHA",
        request={"multipart/form-data": JobUploadInSerializer},
        responses={202: JobCreatedSerializer, **errors(409, 413)},
        tags=TAGS,
    )
    def post(self, request):
        _refuse_oversized(request)
        serializer = JobUploadInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        facility = services.facility_by_key(data["facility"])
        if facility is None:
            raise DomainError(_("No facility has this ID."), fields={"facility": [_("Not found.")]})
        job = services.job_create(actor=request.user, facility=facility, uploaded_file=data["file"], request=request)
        url = reverse("api-linking-job", args=[job.uuid])
        body = {
            "uuid": job.uuid,
            "status": job.status,
            "url": url,
            "page": reverse("records:linking_job", args=[job.uuid]),
        }
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


class JobDetailView(APIView):
    @extend_schema(summary="A linking job's progress and counts", responses=JobDetailSerializer, tags=TAGS)
    def get(self, request, uuid):
        return Response(JobDetailSerializer(services.job_for(request.user, uuid)).data)


class JobErrorsView(APIView):
    @extend_schema(
        summary="The rows that were not linked: row number, column and reason (CSV, in your language)",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
        tags=TAGS,
    )
    def get(self, request, uuid):
        job = services.job_for(request.user, uuid)
        response = StreamingHttpResponse(selectors.error_report_lines(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="linking-errors-{job.uuid}.csv"'
        return response


class JobCancelView(APIView):
    @extend_schema(
        summary="Cancel a queued or running job (it stops between chunks)",
        request=None,
        responses={200: JobSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        return Response(JobSerializer(services.job_cancel(actor=request.user, job_uuid=uuid, request=request)).data)


class ReviewListView(APIView):
    @extend_schema(
        summary="Rows matched on demographics that wait for a person's decision",
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, description="pending (if absent), linked or rejected; anything else: all."
            )
        ],
        responses=ReviewListOutSerializer,
        tags=TAGS,
    )
    def get(self, request):
        reviews = selectors.reviews_for(request.user, status=request.query_params.get("status") or "pending")
        return Response({"count": len(reviews), "results": ReviewSerializer(reviews, many=True).data})


class ReviewDecideView(APIView):
    @extend_schema(
        summary="Link a reviewed row to one candidate, or reject the match",
        request=ReviewDecisionInSerializer,
        responses={200: ReviewSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request, uuid):
        serializer = ReviewDecisionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account_id = None
        if data["decision"] == "link":
            account_id = selectors.candidate_account_id(request.user, uuid, data.get("account"))
            if account_id is None:
                message = _("Choose one of the suggested patients.")
                raise DomainError(message, fields={"account": [message]})
        review = services.review_decide(actor=request.user, review_uuid=uuid, account_id=account_id, request=request)
        return Response(ReviewSerializer(selectors.with_candidates([review])[0]).data)
