"""Officials see ABHA accounts read-only and scoped to their districts; the API is documented."""

import pytest
from django.urls import reverse

from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory, UserFactory

from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]


def test_admin_lists_accounts_of_the_officers_districts_read_only(client):
    bhavnagar = AbhaAccountFactory(first_name="Asha", district_id=443)
    surat = AbhaAccountFactory(first_name="Ravi", district_id=459, mobile="9000000001")
    changelist = reverse("admin:abha_abhaaccount_changelist")

    client.force_login(DistrictOfficerFactory())  # bound to Bhavnagar
    page = client.get(changelist).content.decode()
    assert bhavnagar.abha_number_display in page and surat.abha_number_display not in page
    assert client.get(reverse("admin:abha_abhaaccount_change", args=[surat.pk])).status_code in (302, 403, 404)
    detail = client.get(reverse("admin:abha_abhaaccount_change", args=[bhavnagar.pk]))
    assert detail.status_code == 200 and "abdm_token" not in detail.content.decode()
    assert client.post(reverse("admin:abha_abhaaccount_change", args=[bhavnagar.pk]), {}).status_code == 403

    client.force_login(StateOfficialFactory())
    page = client.get(changelist).content.decode()
    assert bhavnagar.abha_number_display in page and surat.abha_number_display in page

    client.force_login(UserFactory(is_staff=True, role="facility_staff"))
    assert client.get(changelist).status_code in (302, 403)


def test_every_abha_api_operation_is_documented(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = {path for path in schema["paths"] if path.startswith("/api/v1/abha/")}
    for path in [
        "/api/v1/abha/enrolment/otp/",
        "/api/v1/abha/enrolment/verify/",
        "/api/v1/abha/enrolment/mobile/verify/",
        "/api/v1/abha/enrolment/suggestions/",
        "/api/v1/abha/enrolment/complete/",
        "/api/v1/abha/login/otp/",
        "/api/v1/abha/login/verify/",
        "/api/v1/abha/me/",
        "/api/v1/abha/me/card.png",
        "/api/v1/abha/me/card.pdf",
        "/api/v1/abha/lookup/",
    ]:
        assert path in paths
    for path in paths:
        for operation in schema["paths"][path].values():
            assert operation.get("summary"), path
