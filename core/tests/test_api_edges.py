"""What an outside fuzz run found and the suite's own did not, swept over the whole schema deterministically:
OPTIONS with `?format=csv` (the CSV renderer was handed the OPTIONS metadata) and integers in query strings far
outside any column's range (OverflowError). Every path, every role that sees it: never a 500."""

import pytest
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from abha.tests.factories import AbhaAccountFactory
from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory

pytestmark = pytest.mark.django_db

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
HUGE_INTEGERS = ["10747927291959943047938048", "9223372036854775808", "2147483648", "-2147483649", "-1", "1e400", "²"]


def _schema():
    return SchemaGenerator(urlconf=get_resolver().urlconf_name).get_schema(request=None, public=True)


def _url(path: str) -> str:
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        path = path.replace("{" + name + "}", ZERO_UUID if "uuid" in name else "1")
    return path


def _clients():
    anonymous = APIClient()
    clients = {"anonymous": anonymous}
    for role, user in (
        ("citizen", AbhaAccountFactory().user),
        ("district_officer", DistrictOfficerFactory()),
        ("state_official", StateOfficialFactory()),
    ):
        clients[role] = APIClient()
        clients[role].force_authenticate(user)
    return clients


def test_options_with_any_format_is_never_a_500():
    schema, clients = _schema(), _clients()
    failures = []
    for path in schema["paths"]:
        for role, client in clients.items():
            for suffix in ("?format=csv", "?format=json", ""):
                response = client.options(_url(path) + suffix)
                if response.status_code >= 500:
                    failures.append((role, path + suffix, response.status_code))
    assert failures == []


def test_integers_in_query_strings_out_of_any_range_are_400s_not_500s():
    schema, clients = _schema(), _clients()
    failures, tried = [], 0
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if not operation:
            continue
        integers = [
            parameter["name"]
            for parameter in operation.get("parameters", [])
            if parameter.get("in") == "query" and parameter.get("schema", {}).get("type") == "integer"
        ]
        for name in integers:
            for value in HUGE_INTEGERS:
                for role, client in clients.items():
                    response = client.get(_url(path), {name: value})
                    tried += 1
                    if response.status_code >= 500:
                        failures.append((role, path, name, value, response.status_code))
    assert tried > 50
    assert failures == []


@pytest.mark.parametrize(
    "url, name",
    [
        ("/api/v1/directory/professionals/", "district_lgd"),
        ("/api/v1/directory/facilities/", "district_lgd"),
        ("/api/v1/geography/districts/", "state"),
        ("/api/v1/facilities/", "district_lgd"),
        ("/api/v1/dashboard/districts/", "district_lgd"),
    ],
)
@pytest.mark.parametrize("value", ["10747927291959943047938048", "2147483648", "²", "-5"])
def test_an_lgd_code_out_of_range_is_a_field_error(url, name, value):
    client = APIClient()
    client.force_authenticate(StateOfficialFactory())
    response = client.get(url, {name: value})
    assert response.status_code == 400, (url, response.status_code)
    assert name in response.json()["fields"] if "fields" in response.json() else name in str(response.json())


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_url_answers_the_json_error_shape_with_debug_on_or_off(settings, debug, client):
    """make run has DEBUG on: Django's HTML debug 404 reached API clients (the fuzz run on make run's settings)."""
    settings.DEBUG = debug
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"
    assert client.get("/no-such-page/").status_code == 404  # pages keep HTML
