from rest_framework import serializers

from microsites.models import Microsite


class MilestoneProgressSerializer(serializers.Serializer):
    uuid = serializers.UUIDField(source="milestone.uuid")
    metric = serializers.CharField(source="milestone.metric")
    target = serializers.IntegerField(source="milestone.target")
    due_date = serializers.DateField(source="milestone.due_date")
    achieved_at = serializers.DateTimeField(source="milestone.achieved_at", allow_null=True)
    value = serializers.IntegerField()
    percent = serializers.IntegerField()
    status = serializers.CharField()
    projected = serializers.IntegerField(allow_null=True)


class MicrositeSerializer(serializers.ModelSerializer):
    districts = serializers.SlugRelatedField(many=True, read_only=True, slug_field="lgd_code")
    state_lgd = serializers.IntegerField(source="state_id")

    class Meta:
        model = Microsite
        fields = ["uuid", "name", "state_lgd", "districts", "pincodes", "category", "agency", "start_date", "deadline"]


class MicrositeDetailSerializer(MicrositeSerializer):
    milestones = MilestoneProgressSerializer(many=True, source="progress")

    class Meta(MicrositeSerializer.Meta):
        fields = [*MicrositeSerializer.Meta.fields, "milestones"]


class FirstToReachSerializer(serializers.Serializer):
    metric = serializers.CharField()
    target = serializers.IntegerField()
    achieved_at = serializers.DateTimeField()


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    uuid = serializers.UUIDField(source="microsite.uuid")
    name = serializers.CharField(source="microsite.name")
    milestones_achieved = serializers.IntegerField(source="achieved")
    milestones_total = serializers.IntegerField(source="total")
    records_linked = serializers.IntegerField()
    facilities_verified = serializers.IntegerField()
    first_to_complete = serializers.BooleanField()
    firsts = FirstToReachSerializer(
        many=True, help_text="Targets this microsite reached first in its state, among those other microsites share"
    )


class DashboardSummarySerializer(serializers.Serializer):
    abha_accounts = serializers.IntegerField()
    population = serializers.IntegerField(allow_null=True)
    abha_coverage_percent = serializers.FloatField(allow_null=True)
    facilities_verified = serializers.IntegerField()
    facilities_submitted = serializers.IntegerField()
    facilities_by_status = serializers.DictField(child=serializers.IntegerField())
    professionals_verified = serializers.IntegerField()
    records_linked = serializers.IntegerField(help_text="Records linked to an ABHA in the portal (local count).")
    records_linked_on_abdm = serializers.IntegerField(
        help_text="Care contexts ABDM confirmed as linked to the citizen's ABHA (the figure ABDM counts)."
    )
    records_waiting_for_abdm = serializers.IntegerField(
        help_text="Linked here, ABDM's confirmation not counted yet (the local count minus ABDM's, never below 0)."
    )
    tokens_today = serializers.IntegerField()
    tokens_this_month = serializers.IntegerField()
    abha_created_today = serializers.IntegerField()


class DistrictRowSerializer(serializers.Serializer):
    district_lgd = serializers.IntegerField(source="lgd_code")
    name = serializers.CharField()
    abha_accounts = serializers.IntegerField()
    population = serializers.IntegerField(allow_null=True)
    coverage_percent = serializers.FloatField(allow_null=True)
    facilities_verified = serializers.IntegerField()
