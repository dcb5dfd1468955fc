"""Input and output shapes of the ABHA API. Rules live in abha.services, shared with the pages."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..enums import Gender

_text = {"required": _("This field is required."), "blank": _("This field is required.")}


class EnrolmentOtpIn(serializers.Serializer):
    aadhaar = serializers.CharField(
        max_length=20, error_messages=_text, write_only=True, help_text="12 digits; sent to ABDM encrypted, never kept."
    )
    consent_version = serializers.CharField(max_length=20, error_messages=_text)
    facility_id = serializers.CharField(
        max_length=12,
        required=False,
        help_text="Assisted enrollment: the HFR id of the facility acting for the citizen.",
    )
    camp = serializers.BooleanField(required=False, default=False, help_text="Assisted enrollment at a camp.")


class TxnOut(serializers.Serializer):
    txn_id = serializers.UUIDField()
    mobile = serializers.CharField(help_text="Where the OTP went, masked (e.g. ******0161 or 98xxxxxx10).")


class TxnIn(serializers.Serializer):
    txn_id = serializers.CharField(max_length=64, error_messages=_text)


class VerifyIn(TxnIn):
    otp = serializers.CharField(max_length=10, error_messages=_text)


class AadhaarVerifyIn(VerifyIn):
    mobile = serializers.CharField(
        max_length=20,
        error_messages=_text,
        help_text="The mobile for the ABHA (verified by OTP when it is not the Aadhaar-linked one).",
    )


class EnrolmentVerifiedOut(serializers.Serializer):
    txn_id = serializers.UUIDField()
    is_new = serializers.BooleanField(help_text="false: this Aadhaar already had an ABHA; ABDM returned it.")
    mobile_verification_required = serializers.BooleanField(
        help_text="true: ABDM sent an OTP to the mobile; verify it at /enrolment/mobile/verify/ before completing."
    )
    abha_number = serializers.CharField()
    abha_address = serializers.CharField()


class VerifiedOut(serializers.Serializer):
    txn_id = serializers.UUIDField()
    verified = serializers.BooleanField()


class SuggestionsOut(serializers.Serializer):
    suggestions = serializers.ListField(child=serializers.CharField())


class AddressCheckOut(serializers.Serializer):
    abha_address = serializers.CharField()
    available = serializers.BooleanField()
    message = serializers.CharField()


class CompleteIn(TxnIn):
    abha_address = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Empty: keep the default <ABHA number>@suffix."
    )


class AccountOut(serializers.Serializer):
    abha_number = serializers.CharField(source="abha_number_display")
    abha_address = serializers.SerializerMethodField()
    abha_addresses = serializers.SerializerMethodField()
    status = serializers.CharField()
    name = serializers.CharField(source="full_name")
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    last_name = serializers.CharField()
    gender = serializers.ChoiceField(choices=Gender.choices)
    year_of_birth = serializers.IntegerField()
    month_of_birth = serializers.IntegerField(allow_null=True)
    day_of_birth = serializers.IntegerField(allow_null=True)
    dob = serializers.CharField(source="dob_display")
    mobile = serializers.CharField()
    email = serializers.CharField()
    state_lgd = serializers.IntegerField(source="state_id", allow_null=True)
    district_lgd = serializers.IntegerField(source="district_id", allow_null=True)
    district_name = serializers.CharField(source="district.name", allow_null=True, default=None)
    address = serializers.CharField()
    pincode = serializers.CharField()
    created_at = serializers.DateTimeField()

    def _addresses(self, account):
        # One query per account, shared by the two address fields.
        cached = getattr(account, "_sorted_addresses", None)
        if cached is None:
            cached = sorted(account.addresses.all(), key=lambda a: (not a.is_primary, a.created_at))
            account._sorted_addresses = cached
        return cached

    def get_abha_address(self, account) -> str:
        addresses = self._addresses(account)
        return addresses[0].full if addresses else ""

    def get_abha_addresses(self, account) -> list[str]:
        return [a.full for a in self._addresses(account)]


class LoginOtpIn(serializers.Serializer):
    login_id = serializers.CharField(
        max_length=40, error_messages=_text, help_text="ABHA number, ABHA address or 10-digit mobile."
    )


class LoginVerifyIn(TxnIn):
    otp = serializers.CharField(
        max_length=10, required=False, allow_blank=True, help_text="Required until the OTP is verified."
    )
    abha_number = serializers.CharField(
        max_length=20, required=False, help_text="When the mobile holds several ABHAs: the one to sign in to."
    )


class LoginChoiceOut(serializers.Serializer):
    abha_number = serializers.CharField()
    name = serializers.CharField()


class LoginVerifyOut(serializers.Serializer):
    token = serializers.CharField(allow_null=True)
    abha_number = serializers.CharField(required=False)
    accounts = LoginChoiceOut(many=True, required=False)


class LookupOut(serializers.Serializer):
    """The minimal profile a facility system gets to verify a patient's ABHA (M1)."""

    abha_number = serializers.CharField(source="abha_number_display")
    abha_address = serializers.SerializerMethodField()
    name = serializers.CharField(source="full_name")
    gender = serializers.CharField()
    year_of_birth = serializers.IntegerField()
    district_lgd = serializers.IntegerField(source="district_id", allow_null=True)
    status = serializers.CharField()

    def get_abha_address(self, account) -> str:
        primary = next((a for a in account.addresses.all() if a.is_primary), None)
        return primary.full if primary else ""
