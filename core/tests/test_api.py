import pytest
from django.conf import settings
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator

from core.enums import Role
from core.tests.factories import DistrictOfficerFactory, UserFactory
from core.tests.openapi import assert_documented

pytestmark = pytest.mark.django_db


def test_token_for_valid_staff_credentials(api_client):
    user = UserFactory(username="staff1", role=Role.FACILITY_STAFF)
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "staff1", "password": "correct-horse-battery"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "staff1" and me.json()["uuid"] == str(user.uuid)


def test_wrong_password_gets_a_400_in_the_error_shape(api_client):
    UserFactory(username="staff1")
    response = api_client.post("/api/v1/auth/token/", {"username": "staff1", "password": "nope"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "not correct" in error["message"]


def test_missing_fields_are_reported_per_field(api_client):
    response = api_client.post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"username", "password"}


def test_malformed_json_is_a_400_not_a_500(api_client):
    response = api_client.post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_unauthenticated_requests_get_401_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided.", "fields": {}}
    }


def test_bad_token_is_rejected(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_is_a_405_in_the_error_shape(api_as):
    response = api_as(UserFactory()).delete("/api/v1/me/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_login_attempts_are_throttled(api_client):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"].split("/")[0])
    for _ in range(rate):
        api_client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
    response = api_client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert "Retry-After" in response


def test_district_list_is_paginated_with_counts(api_client):
    response = api_client.get("/api/v1/geography/districts/?state=24&page_size=10")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 33 and len(body["results"]) == 10 and body["next"]
    assert {"lgd_code", "name", "name_gu", "name_hi"} <= set(body["results"][0])


def test_district_list_rejects_a_non_numeric_state(api_client):
    response = api_client.get("/api/v1/geography/districts/?state=GJ")
    assert response.status_code == 400
    assert "state" in response.json()["error"]["fields"]


def test_district_list_query_count_is_fixed(api_client, django_assert_num_queries):
    with django_assert_num_queries(2):  # count + page
        api_client.get("/api/v1/geography/districts/?state=24")


def test_schema_builds_and_every_operation_has_a_summary():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert "/api/v1/auth/token/" in schema["paths"]
    assert operations and all(op.get("summary") for op in operations)


def test_swagger_ui_is_served_offline(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    assert client.get("/api/schema/").status_code == 200


def test_every_api_route_is_versioned():
    api_routes = [str(p.pattern) for p in get_resolver().url_patterns if str(p.pattern).startswith("api/")]
    assert set(api_routes) == {"api/schema/", "api/docs/", "api/v1/"}


def test_me_reports_an_officers_districts(api_as):
    officer = DistrictOfficerFactory()
    assert api_as(officer).get("/api/v1/me/").json()["districts"] == [443]


def test_every_operation_documents_its_errors_in_the_one_error_shape():
    """Found by `make fuzz`: no operation listed an error response, so every 4xx was an undocumented status."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    error_ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            errors = {code: r for code, r in responses.items() if code >= "400"}
            assert {"429", "503"} <= set(errors), (method, path)
            assert all(r["content"]["application/json"]["schema"] == error_ref for r in errors.values()), (method, path)
            if operation.get("security") and {} not in operation["security"]:
                assert {"401", "403"} <= set(errors), (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
            if "requestBody" in operation:
                assert "400" in errors, (method, path)
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert {"400", "429", "503"} <= set(token) and "401" not in token  # it reads no token
    assert "Retry-After" in token["429"]["headers"]
    assert "409" in schema["paths"]["/api/v1/consents/requests/{uuid}/grant/"]["post"]["responses"]


def test_an_error_answer_matches_the_documented_shape(api_client):
    assert_documented(api_client.get("/api/v1/me/"), "GET", "/api/v1/me/")
    bad = api_client.get("/api/v1/geography/districts/", {"state": "x"})
    assert bad.status_code == 400
    assert_documented(bad, "GET", "/api/v1/geography/districts/")
    nul_page = api_client.get("/api/v1/geography/districts/", {"page": "\x00"})
    assert nul_page.status_code == 400
    assert_documented(nul_page, "GET", "/api/v1/geography/districts/")
