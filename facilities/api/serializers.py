from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.models import District, State
from facilities.enums import FacilityStatus, SystemOfMedicine, VerifyDecision
from facilities.fields import FACILITY_FIELDS, PROFESSIONAL_FIELDS, REVIEW_FIELDS, api_names
from facilities.models import Counter, Facility, Professional


def validated(serializer_class, data, **kwargs) -> dict:
    """`data` as `serializer_class` reads it; a 400 in the API's error shape when it is not valid."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class AssignedIdField(serializers.CharField):
    """An ID the registry assigns later (facility ID, HPR ID): an empty string until then, never null."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return super().get_attribute(instance) or ""


class FacilityOutSerializer(serializers.ModelSerializer):
    facility_id = AssignedIdField(help_text="The facility's HFR ID (IN + 10 digits); empty while a draft has none.")
    hip_active = serializers.BooleanField(
        read_only=True, help_text="ABDM confirmed the facility as an active HIP service of the state's bridge."
    )
    district_lgd = serializers.IntegerField(source="district_id", allow_null=True)
    state_lgd = serializers.IntegerField(source="state_id", allow_null=True)
    district_name = serializers.CharField(source="district.name", default="")

    class Meta:
        model = Facility
        fields = [
            "uuid",
            "facility_id",
            "name",
            "status",
            "district_lgd",
            "district_name",
            "state_lgd",
            *[name for name in FACILITY_FIELDS if name not in ("facility_id", "name", "state", "district")],
            "hip_active",
            "hip_confirmed_at",
            *REVIEW_FIELDS,
        ]


class FacilityInSerializer(serializers.ModelSerializer):
    """What a manager sends to create or change a draft. Every field is optional on a draft."""

    facility_id = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=20,
        help_text="The facility's HFR ID (IN + 10 digits), checked against HFR with the name, state and district. "
        "Empty or null: not on HFR yet (the draft cannot be submitted until it has one).",
    )

    district_lgd = serializers.PrimaryKeyRelatedField(
        source="district",
        queryset=District.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": _("No district has this LGD code.")},
    )
    state_lgd = serializers.PrimaryKeyRelatedField(
        source="state",
        queryset=State.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": _("No state has this LGD code.")},
    )
    systems_of_medicine = serializers.ListField(
        child=serializers.ChoiceField(choices=SystemOfMedicine.choices), required=False
    )
    # Range checked by the model, so the message says "outside India" in the caller's language.
    latitude = serializers.DecimalField(max_digits=8, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)

    class Meta:
        model = Facility
        fields = api_names(FACILITY_FIELDS)
        extra_kwargs = {name: {"required": False} for name in FACILITY_FIELDS}


class SubmitSerializer(serializers.Serializer):
    confirm_not_duplicate = serializers.BooleanField(
        default=False, help_text="True once the manager has seen the duplicate hints and this is a different facility."
    )


class VerifySerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=VerifyDecision.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class StatusChangeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DuplicateSerializer(serializers.Serializer):
    uuid = serializers.UUIDField(source="facility.uuid")
    facility_id = serializers.CharField(source="facility.facility_id")
    name = serializers.CharField(source="facility.name")
    pincode = serializers.CharField(source="facility.pincode")
    district_lgd = serializers.IntegerField(source="facility.district_id")
    status = serializers.ChoiceField(source="facility.status", choices=FacilityStatus.choices)
    same_mobile = serializers.BooleanField()
    similar_name = serializers.BooleanField()


class CounterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Counter
        fields = ["uuid", "code", "name", "active", "created_at"]
        read_only_fields = ["uuid", "created_at"]


class CounterInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=100)


class CounterUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    active = serializers.BooleanField(required=False)


class MembershipSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    role = serializers.CharField()
    user_uuid = serializers.UUIDField(source="user.uuid")
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.get_full_name")


class InviteSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=[("admin", "admin"), ("staff", "staff")])
    mobile = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10, help_text="Where the invitation SMS goes."
    )
    email = serializers.CharField(required=False, allow_blank=True, default="", max_length=254)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)


class InvitationSerializer(serializers.Serializer):
    """The same shape for every mobile: whether it has an account is not said."""

    uuid = serializers.UUIDField()
    role = serializers.CharField()
    mobile = serializers.SerializerMethodField(help_text="Masked, e.g. 98xxxxxx10.")
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()

    def get_mobile(self, invitation) -> str:
        from core.sms import mask_mobile

        return mask_mobile(invitation.mobile)


class InvitationAnswerSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=100, help_text="The token of the invitation link sent by SMS.")
    decision = serializers.ChoiceField(choices=[("accept", "accept"), ("decline", "decline")])


class InvitationAnsweredSerializer(serializers.Serializer):
    status = serializers.CharField()
    facility = serializers.CharField(allow_null=True)
    role = serializers.CharField(allow_null=True)
    password_set_url = serializers.CharField(
        allow_null=True, help_text="A new staff account chooses its password here (one-time link)."
    )


# --- Professionals --------------------------------------------------------------------------


class AffiliationSerializer(serializers.Serializer):
    facility_uuid = serializers.UUIDField(source="facility.uuid")
    facility_id = serializers.CharField(source="facility.facility_id")
    facility_name = serializers.CharField(source="facility.name")
    confirmed = serializers.BooleanField()


# What anyone may see of a professional, first in both the registry's and the public directory's answers.
PROFESSIONAL_PUBLIC_FIELDS = ["uuid", "hpr_id", "name", "category", "sub_category", "status", "council"]


class ProfessionalOutSerializer(serializers.ModelSerializer):
    hpr_id = AssignedIdField(help_text="The HPR ID number the professional entered (14 digits); empty until then.")
    district_lgd = serializers.IntegerField(source="district_id", allow_null=True)
    lapsed = serializers.BooleanField(source="is_lapsed")
    facilities = AffiliationSerializer(source="affiliations", many=True)

    class Meta:
        model = Professional
        fields = [
            *PROFESSIONAL_PUBLIC_FIELDS,
            "registration_number",
            "registration_date",
            "registration_type",
            "renewal_due_date",
            "lapsed",
            "qualifications",
            "work_status",
            "mobile",
            "email",
            "district_lgd",
            "facilities",
            *REVIEW_FIELDS,
        ]


class QualificationSerializer(serializers.Serializer):
    degree = serializers.CharField(max_length=100)
    college = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    year = serializers.IntegerField(min_value=1900, max_value=2100, required=False, allow_null=True)


class ProfessionalInSerializer(serializers.ModelSerializer):
    # Every field is optional on a draft (no docstring: it would become the schema's description).
    hpr_id = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=20,
        help_text="The professional's HPR ID number (14 digits, dashes allowed), checked against HPR.",
    )
    district_lgd = serializers.PrimaryKeyRelatedField(
        source="district",
        queryset=District.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": _("No district has this LGD code.")},
    )
    qualifications = QualificationSerializer(many=True, required=False)
    facility_uuids = serializers.ListField(child=serializers.UUIDField(), required=False)

    class Meta:
        model = Professional
        fields = [*api_names(PROFESSIONAL_FIELDS), "facility_uuids"]
        extra_kwargs = {name: {"required": False} for name in PROFESSIONAL_FIELDS}
        validators = []  # the service answers a reused registration number with its own message


class ProfessionalPublicSerializer(serializers.ModelSerializer):
    """What the public directory shows: no mobile, email or registration details."""

    hpr_id = serializers.CharField()
    district_lgd = serializers.IntegerField(source="district_id")
    district_name = serializers.CharField(source="district.name", default="")
    lapsed = serializers.BooleanField(source="is_lapsed")

    class Meta:
        model = Professional
        fields = [*PROFESSIONAL_PUBLIC_FIELDS, "district_lgd", "district_name", "lapsed"]


class FacilityPublicSerializer(serializers.ModelSerializer):
    """A verified facility as the public directory shows it."""

    district_lgd = serializers.IntegerField(source="district_id")
    district_name = serializers.CharField(source="district.name", default="")

    class Meta:
        model = Facility
        fields = [
            "uuid",
            "facility_id",
            "name",
            "status",
            "ownership",
            "facility_type",
            "systems_of_medicine",
            "service_type",
            "district_lgd",
            "district_name",
            "address",
            "pincode",
            "latitude",
            "longitude",
            "contact_mobile",
            "contact_landline",
            "timings",
        ]
