"""Scan & Share API shapes: the share's input, a token's output and a queue row.

`token_body` builds TokenOutSerializer's output directly (the share is the rush-hour request); a test keeps both
the same.
"""

from rest_framework import serializers


class ShareInSerializer(serializers.Serializer):
    hip_id = serializers.CharField(max_length=20, help_text="The facility ID from the QR (hip-id), e.g. IN2410000123.")
    counter_id = serializers.CharField(max_length=20, help_text="The counter code from the QR (counter-id), e.g. OPD1.")


class CounterRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class FacilityRefSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    hip_id = serializers.CharField(source="facility_id")
    name = serializers.CharField()


class TokenOutSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    token_number = serializers.IntegerField(source="number")
    counter = CounterRefSerializer()
    facility = FacilityRefSerializer()
    day = serializers.DateField(help_text="The local (Asia/Kolkata) day the number belongs to.")
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(source="valid_until")
    status = serializers.CharField()


class QueueTokenSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    token_number = serializers.IntegerField(source="number")
    counter = serializers.CharField(source="counter.code")
    status = serializers.CharField()
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(source="valid_until")
    returning = serializers.BooleanField(help_text="An earlier token at this facility.")
    profile = serializers.JSONField(help_text="The profile the patient shared (name, ABHA, gender, age, ...).")
    source = serializers.CharField(help_text="Where it was shared: portal (the /scan/ page) or abdm (the ABHA app).")
    abha_address = serializers.CharField(help_text="The sharer's ABHA address (ABDM shares; may be empty otherwise).")


_DATETIME = serializers.DateTimeField()


def token_body(token) -> dict:
    """TokenOutSerializer's output, built directly: the share is the rush-hour request, and a DRF serializer costs
    it ~0.3 ms (copying its fields on every use). The schema still comes from the serializer, and a test keeps both
    the same. `token.facility` and `token.counter` are already loaded by the service (no query here)."""
    return {
        "uuid": str(token.uuid),
        "token_number": token.number,
        "counter": {"code": token.counter.code, "name": token.counter.name},
        "facility": {
            "uuid": str(token.facility.uuid),
            "hip_id": token.facility.facility_id,
            "name": token.facility.name,
        },
        "day": token.day.isoformat(),
        "issued_at": _DATETIME.to_representation(token.issued_at),
        "expires_at": _DATETIME.to_representation(token.valid_until),
        "status": token.status,
    }
