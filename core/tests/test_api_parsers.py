"""JSON bodies nested deeper than any request of ours: a 400 with the API's error shape, never a 500."""

import json

import pytest
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from core.api.parsers import MAX_JSON_DEPTH, json_depth_exceeds
from core.tests.factories import StateOfficialFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000  # the probe's body: RecursionError in the JSON decoder


def _nested(depth: int):
    value = 1
    for _ in range(depth - 1):
        value = [value]
    return {"login_id": value}


def test_depth_is_measured_without_recursion():
    assert json_depth_exceeds(json.loads("[" * 900 + "]" * 900), 64)
    assert not json_depth_exceeds({"a": [{"b": [1, 2]}]}, 4)
    assert json_depth_exceeds({"a": [{"b": [1, 2]}]}, 3)
    assert not json_depth_exceeds("plain", 1)


@pytest.mark.parametrize("body", [DEEP, json.dumps(_nested(MAX_JSON_DEPTH + 1))])
def test_an_anonymous_deeply_nested_body_is_a_400_not_a_500(body):
    response = APIClient().post("/api/v1/abha/login/otp/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested more than" in json.dumps(response.json())


def test_a_body_as_deep_as_ours_still_parses():
    response = APIClient().post(
        "/api/v1/abha/login/otp/", json.dumps(_nested(MAX_JSON_DEPTH - 1)), content_type="application/json"
    )
    assert response.status_code == 400  # a field error about login_id, not a parse error
    assert "nested more than" not in json.dumps(response.json())


def test_no_operation_that_takes_a_body_answers_a_deep_body_with_a_500():
    """Every POST, PUT and PATCH of the schema, signed in as a state official (past the permission checks)."""
    schema = SchemaGenerator(urlconf=get_resolver().urlconf_name).get_schema(request=None, public=True)
    client = APIClient()
    client.force_authenticate(StateOfficialFactory())
    tried = 0
    for path, operations in schema["paths"].items():
        url = path
        for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
            url = url.replace("{" + name + "}", "00000000-0000-0000-0000-000000000000" if "uuid" in name else "1")
        for method in ("post", "put", "patch"):
            if method in operations:
                response = getattr(client, method)(url, DEEP, content_type="application/json")
                assert response.status_code < 500, (method, path, response.status_code)
                tried += 1
    assert tried >= 20
