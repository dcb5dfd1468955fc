import datetime

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core.api.params import query_int
from core.api.renderers import CSVExportMixin
from core.enums import CountMetric
from microsites import dashboard
from microsites.models import Microsite
from microsites.selectors import firsts_csv_cell, leaderboard, microsite_progress, microsites_for

from .serializers import (
    DashboardSummarySerializer,
    DistrictRowSerializer,
    LeaderboardRowSerializer,
    MicrositeDetailSerializer,
    MicrositeSerializer,
    MilestoneProgressSerializer,
)

# Every table here also downloads as CSV: the same rows and columns as the JSON.
CSV_FORMAT = OpenApiParameter(
    "format", str, enum=["json", "csv"], required=False, description="`csv` downloads the table as a CSV file."
)


def _require_official(user):
    if not access.can(user, "view", Microsite):
        raise exceptions.PermissionDenied(_("Dashboards are for district and state officials."))


@extend_schema(summary="List microsites", parameters=[CSV_FORMAT], tags=["microsites"])
class MicrositeListView(CSVExportMixin, generics.ListAPIView):
    serializer_class = MicrositeSerializer
    csv_columns = list(MicrositeSerializer.Meta.fields)

    def csv_filename(self, data):
        return "microsites"

    def get_queryset(self):
        _require_official(self.request.user)
        return microsites_for(self.request.user).select_related("state")


class MicrositeDetailView(CSVExportMixin, APIView):
    csv_columns = list(MilestoneProgressSerializer().fields)

    def csv_rows(self, data):
        return data.get("milestones", [])  # the CSV is the milestones table

    def csv_filename(self, data):
        return f"{data.get('name', 'microsite')}-milestones"

    @extend_schema(
        summary="A microsite with its milestones' progress (as CSV: the milestones table)",
        parameters=[CSV_FORMAT],
        responses=MicrositeDetailSerializer,
        tags=["microsites"],
    )
    def get(self, request, uuid):
        _require_official(request.user)
        microsite = get_object_or_404(microsites_for(request.user), uuid=uuid)
        microsite.progress = microsite_progress(microsite)
        return Response(MicrositeDetailSerializer(microsite).data)


class LeaderboardView(CSVExportMixin, APIView):
    csv_columns = list(LeaderboardRowSerializer().fields)

    def csv_filename(self, data):
        return "microsite-leaderboard"

    def csv_rows(self, data):
        # A cell per row for its firsts (JSON has a list of objects).
        return [{**row, "firsts": firsts_csv_cell(ranked.firsts)} for row, ranked in zip(data, self.board, strict=True)]

    @extend_schema(
        summary="Microsites ranked by milestones achieved",
        parameters=[CSV_FORMAT],
        responses=LeaderboardRowSerializer(many=True),
        tags=["microsites"],
    )
    def get(self, request):
        _require_official(request.user)
        self.board = leaderboard(microsites_for(request.user))
        return Response(LeaderboardRowSerializer(self.board, many=True).data)


def _districts_for(request):
    _require_official(request.user)
    districts = dashboard.dashboard_districts(request.user, settings.PORTAL_STATE_LGD)
    lgd = query_int(request.query_params, "district_lgd", message=_("Give the district's numeric LGD code."))
    if lgd is not None:
        districts = districts.filter(lgd_code=lgd)
        if not districts.exists():
            raise exceptions.PermissionDenied(_("This district is not in your area."))
    return districts


class DashboardSummaryView(APIView):
    @extend_schema(
        summary="Headline numbers for the state or one district",
        parameters=[OpenApiParameter("district_lgd", int, required=False)],
        responses=DashboardSummarySerializer,
        tags=["dashboard"],
    )
    def get(self, request):
        return Response(DashboardSummarySerializer(dashboard.summary(_districts_for(request))).data)


class DashboardDistrictsView(CSVExportMixin, APIView):
    csv_columns = list(DistrictRowSerializer().fields)

    def csv_filename(self, data):
        return "abha-coverage-by-district"

    @extend_schema(
        summary="ABHA coverage by district",
        parameters=[OpenApiParameter("district_lgd", int, required=False), CSV_FORMAT],
        responses=DistrictRowSerializer(many=True),
        tags=["dashboard"],
    )
    def get(self, request):
        rows = dashboard.district_rows(_districts_for(request))
        return Response(DistrictRowSerializer(rows, many=True).data)


class TimeseriesPointSerializer(serializers.Serializer):
    period = serializers.DateField()
    value = serializers.IntegerField()


class DashboardTimeseriesView(CSVExportMixin, APIView):
    csv_columns = ["period", "value"]

    def csv_filename(self, data):
        params = self.request.query_params
        return f"{params.get('metric', 'metric')}-by-{params.get('interval', 'day')}"

    @extend_schema(
        summary="Daily or monthly changes of one dashboard metric",
        parameters=[
            OpenApiParameter("metric", str, enum=CountMetric.values, required=True),
            OpenApiParameter("interval", str, enum=["day", "month"], required=False),
            OpenApiParameter("district_lgd", int, required=False),
            OpenApiParameter("from", datetime.date, required=False),
            OpenApiParameter("to", datetime.date, required=False),
            CSV_FORMAT,
        ],
        responses=TimeseriesPointSerializer(many=True),
        tags=["dashboard"],
    )
    def get(self, request):
        districts = _districts_for(request)
        params = TimeseriesQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data
        points = dashboard.timeseries(
            districts, query["metric"], query["interval"], since=query.get("from"), until=query.get("to")
        )
        return Response(TimeseriesPointSerializer(points, many=True).data)


class TimeseriesQuerySerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=CountMetric.values)
    interval = serializers.ChoiceField(choices=["day", "month"], default="day")

    def get_fields(self):
        fields = super().get_fields()
        # `from` and `to` are Python keywords, so they are declared here rather than as attributes.
        fields["from"] = serializers.DateField(required=False)
        fields["to"] = serializers.DateField(required=False)
        return fields

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": [_("Must be on or before the 'to' date.")]})
        return attrs
