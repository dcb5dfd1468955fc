"""Input and output shapes of the records and consent API (field names are a public contract)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..enums import AccessMode, FrequencyUnit, HiType, Purpose
from ..fhir import with_labels
from ..linking.documents import record_bundle, record_summary


class CareContextInSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=64)
    display = serializers.CharField(max_length=200)
    date = serializers.DateField()


class DemographicsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    mobile = serializers.CharField(max_length=10)
    gender = serializers.ChoiceField(choices=["M", "F", "O", "U"])
    year_of_birth = serializers.IntegerField()


class RecordInSerializer(serializers.Serializer):
    facility = serializers.CharField(max_length=12, required=False, help_text="facility_id; optional with one facility")
    abha_number = serializers.CharField(max_length=20, required=False)
    abha_address = serializers.CharField(max_length=64, required=False)
    demographics = DemographicsSerializer(
        required=False, help_text="For an older record of a patient without ABHA: they link it later (OTP)."
    )
    care_context = CareContextInSerializer()
    hi_type = serializers.ChoiceField(choices=HiType.choices)
    bundle = serializers.JSONField()

    def validate(self, attrs):
        if not attrs.get("abha_number") and not attrs.get("abha_address") and not attrs.get("demographics"):
            raise serializers.ValidationError({"abha_number": [_("Give the ABHA number or the ABHA address.")]})
        if not isinstance(attrs.get("bundle"), dict):
            raise serializers.ValidationError({"bundle": [_("The bundle must be a JSON object.")]})
        return attrs


class CareContextOutSerializer(serializers.Serializer):
    reference = serializers.CharField()
    display = serializers.CharField()
    date = serializers.DateField()


class RecordOutSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    hi_type = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    date = serializers.DateField(source="record_date")
    facility = serializers.CharField(source="facility.facility_id")
    facility_name = serializers.CharField(source="facility.name")
    care_context = CareContextOutSerializer()
    created_at = serializers.DateTimeField()


class RecordSummarySerializer(RecordOutSerializer):
    summary = serializers.SerializerMethodField()

    def get_summary(self, record) -> dict:
        return with_labels(record_summary(record))


class RecordReadSerializer(RecordSummarySerializer):
    """A record as read under consent, emergency access or by its facility: summary plus raw bundle."""

    bundle = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_bundle(self, record) -> dict:
        return record_bundle(record)


class RecordListOutSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = RecordReadSerializer(many=True)


class FrequencySerializer(serializers.Serializer):
    unit = serializers.ChoiceField(choices=FrequencyUnit.choices, default=FrequencyUnit.HOUR)
    value = serializers.IntegerField(default=1)
    repeats = serializers.IntegerField(default=0)


class ConsentRequestInSerializer(serializers.Serializer):
    patient = serializers.CharField(max_length=64, help_text="The patient's ABHA address (or number).")
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    hi_types = serializers.ListField(child=serializers.ChoiceField(choices=HiType.choices), allow_empty=False)
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    data_erase_at = serializers.DateTimeField()
    access_mode = serializers.ChoiceField(choices=AccessMode.choices, default=AccessMode.VIEW)
    frequency = FrequencySerializer(required=False)
    facility = serializers.CharField(max_length=12, required=False, help_text="Source facility_id (HIP), optional.")
    requester_facility = serializers.CharField(
        max_length=12, required=False, help_text="Your facility_id when you are a doctor at several."
    )


class GrantInSerializer(serializers.Serializer):
    hi_types = serializers.ListField(
        child=serializers.ChoiceField(choices=HiType.choices), required=False, allow_empty=False
    )
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    data_erase_at = serializers.DateTimeField(required=False)
    facilities = serializers.ListField(child=serializers.CharField(max_length=12), required=False, allow_empty=False)


class ArtefactOutSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    status = serializers.CharField()
    facility = serializers.CharField(source="source_facility.facility_id")
    facility_name = serializers.CharField(source="source_facility.name")
    requester_facility = serializers.CharField(source="requester_facility.facility_id")
    purpose = serializers.CharField()
    hi_types = serializers.ListField(child=serializers.CharField())
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    data_erase_at = serializers.DateTimeField()
    access_mode = serializers.CharField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class ConsentRequestOutSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    status = serializers.CharField()
    patient = serializers.CharField(source="patient_address")
    purpose = serializers.CharField()
    hi_types = serializers.ListField(child=serializers.CharField())
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    data_erase_at = serializers.DateTimeField()
    access_mode = serializers.CharField()
    frequency = serializers.SerializerMethodField()
    facility = serializers.CharField(source="source_facility.facility_id", allow_null=True, default=None)
    requester = serializers.CharField(source="requester.get_full_name")
    requester_hpr_id = serializers.CharField()
    requester_facility = serializers.CharField(source="requester_facility.facility_id")
    requester_facility_name = serializers.CharField(source="requester_facility.name")
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    artefacts = ArtefactOutSerializer(many=True, source="artefacts.all")

    def get_frequency(self, obj) -> dict:
        return {"unit": obj.frequency_unit, "value": obj.frequency_value, "repeats": obj.frequency_repeats}


class BreakGlassInSerializer(serializers.Serializer):
    patient = serializers.CharField(max_length=64)
    reason = serializers.CharField(max_length=2000)
    facility = serializers.CharField(max_length=12, required=False)


class BreakGlassOutSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    patient = serializers.CharField(source="patient.abha_number")
    facility = serializers.CharField(source="facility.facility_id")
    reason = serializers.CharField()
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class AccessLogEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    who = serializers.CharField(source="actor_label")
    name = serializers.SerializerMethodField()
    action = serializers.CharField()
    basis = serializers.SerializerMethodField()
    emergency = serializers.SerializerMethodField()
    facility = serializers.SerializerMethodField()
    facility_name = serializers.SerializerMethodField()
    records = serializers.SerializerMethodField()
    hi_types = serializers.SerializerMethodField()
    artefact = serializers.SerializerMethodField()
    btg = serializers.SerializerMethodField()

    def get_name(self, event) -> str:
        return event.actor.get_full_name() if event.actor else ""

    def get_basis(self, event) -> str:
        return event.details.get("basis", "")

    def get_emergency(self, event) -> bool:
        return bool(event.details.get("emergency"))

    def get_facility(self, event) -> str:
        return event.details.get("facility", "")

    def get_facility_name(self, event) -> str:
        return event.details.get("facility_name", "")

    def get_records(self, event) -> list[str]:
        return event.details.get("records", [])

    def get_hi_types(self, event) -> list[str]:
        return event.details.get("hi_types", [])

    def get_artefact(self, event) -> str | None:
        return event.details.get("artefact")

    def get_btg(self, event) -> str | None:
        return event.details.get("btg")


class LinkCandidateSerializer(serializers.Serializer):
    care_context = serializers.UUIDField()
    display = serializers.CharField()
    date = serializers.DateField()
    match = serializers.CharField()


class LinkStartInSerializer(serializers.Serializer):
    facility = serializers.CharField(max_length=12)
    care_contexts = serializers.ListField(child=serializers.UUIDField(), allow_empty=False)


class LinkOutSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    status = serializers.CharField()
    match = serializers.CharField()
    facility = serializers.CharField(source="facility.facility_id")
    patient = serializers.CharField(source="patient.abha_number")
    care_contexts = serializers.SerializerMethodField()

    def get_care_contexts(self, link) -> list[dict]:
        return [
            {
                "uuid": str(cc.uuid),
                "reference": cc.reference,
                "display": cc.display,
                "date": cc.date.isoformat(),
                "name_given": cc.patient_name,
            }
            for cc in link.care_contexts.all()
        ]


class LinkConfirmInSerializer(serializers.Serializer):
    otp = serializers.CharField(max_length=6)


class LinkReviewInSerializer(serializers.Serializer):
    approve = serializers.BooleanField()


# Envelopes of the read endpoints: what they answer, for the OpenAPI schema (the views build the same keys).
class AccessLogOutSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = AccessLogEntrySerializer(many=True)


class LinkDiscoverOutSerializer(serializers.Serializer):
    facility = serializers.CharField(help_text="The facility ID asked about.")
    matches = LinkCandidateSerializer(many=True)


class ConsentRecordSerializer(RecordSummarySerializer):
    """A record as read under a consent: the summary always, the raw bundle only when the consent allows a copy."""

    bundle = serializers.JSONField(
        allow_null=True,
        help_text=(
            "The FHIR document bundle, only under a consent granted with access mode STORE. Under VIEW it is null: "
            "the doctor sees what the page shows (`summary`, the rendered content), never a copy of the bundle."
        ),
    )


class ArtefactRecordsOutSerializer(serializers.Serializer):
    artefact = ArtefactOutSerializer()
    count = serializers.IntegerField()
    records = ConsentRecordSerializer(many=True)


class BreakGlassRecordsOutSerializer(serializers.Serializer):
    btg = BreakGlassOutSerializer()
    count = serializers.IntegerField()
    records = RecordReadSerializer(many=True)


# --- Consent through ABDM (records.hiu) --------------------------------------------------------------------------


class HiuConsentRequestInSerializer(serializers.Serializer):
    patient = serializers.CharField(max_length=64, help_text="The patient's ABHA address (name@abdm or name@sbx).")
    purpose = serializers.ChoiceField(choices=[p for p in Purpose.choices if p[0] != Purpose.BREAK_THE_GLASS])
    hi_types = serializers.ListField(child=serializers.ChoiceField(choices=HiType.choices), allow_empty=False)
    date_from = serializers.DateTimeField()
    date_to = serializers.DateTimeField()
    data_erase_at = serializers.DateTimeField()
    access_mode = serializers.ChoiceField(choices=AccessMode.choices, default=AccessMode.VIEW)
    frequency = FrequencySerializer(required=False)
    hip_id = serializers.CharField(max_length=64, required=False, help_text="Only records from this HIP (ABDM ID).")
    requester_facility = serializers.CharField(
        max_length=12, required=False, help_text="Your facility_id when you are a doctor at several."
    )


class HiuArtefactOutSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    artefact_id = serializers.UUIDField(help_text="ABDM's consent artefact ID.")
    status = serializers.CharField()
    hip_id = serializers.CharField()
    hip_name = serializers.CharField()
    hi_types = serializers.ListField(child=serializers.CharField())
    access_mode = serializers.CharField()
    date_from = serializers.DateTimeField(allow_null=True)
    date_to = serializers.DateTimeField(allow_null=True)
    data_erase_at = serializers.DateTimeField()
    fetched_at = serializers.DateTimeField(allow_null=True)


class HiuConsentRequestOutSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    consent_request_id = serializers.UUIDField(allow_null=True, help_text="ABDM's ID, once ABDM answered.")
    status = serializers.CharField(help_text="QUEUED (waiting to reach ABDM), then as ABDM reports it.")
    error = serializers.CharField()
    patient = serializers.CharField(source="patient_address")
    purpose = serializers.CharField()
    hi_types = serializers.ListField(child=serializers.CharField())
    date_from = serializers.DateTimeField()
    date_to = serializers.DateTimeField()
    data_erase_at = serializers.DateTimeField()
    access_mode = serializers.CharField()
    requester_facility = serializers.CharField(source="facility.facility_id")
    created_at = serializers.DateTimeField()
    artefacts = HiuArtefactOutSerializer(many=True)


class HiuRecordOutSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    care_context_reference = serializers.CharField()
    hi_type = serializers.CharField()
    title = serializers.CharField()
    date = serializers.DateField(source="record_date", allow_null=True)
    summary = serializers.JSONField()
    bundle = serializers.JSONField(allow_null=True, help_text="Only under a STORE consent; null under VIEW.")


class HiuArtefactRecordsOutSerializer(serializers.Serializer):
    artefact = HiuArtefactOutSerializer()
    count = serializers.IntegerField()
    records = HiuRecordOutSerializer(many=True)
