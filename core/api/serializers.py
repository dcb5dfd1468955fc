from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core import services
from core.enums import Role
from core.models import District, User


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)

    def validate(self, attrs):
        request = self.context["request"]
        services.login_lockout_check(username=attrs["username"], request=request)  # 429 locked_out
        user = authenticate(request, username=attrs["username"], password=attrs["password"])
        if user is None:
            services.login_failure_record(username=attrs["username"], request=request)
            raise serializers.ValidationError(_("The username or password is not correct."), code="authorization")
        services.login_success_record(username=attrs["username"], request=request)
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class DistrictSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["lgd_code", "name", "name_gu", "name_hi", "state"]


class MeSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
    districts = serializers.SlugRelatedField(many=True, read_only=True, slug_field="lgd_code")

    class Meta:
        model = User
        fields = ["uuid", "username", "first_name", "last_name", "role", "districts"]
