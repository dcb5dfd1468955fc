"""Input the dashboard API must refuse with a 400 in its error shape (found by `make fuzz`)."""

import pytest

from core.tests.factories import StateOfficialFactory
from core.tests.openapi import assert_documented

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/microsites/leaderboard/", "/api/v1/dashboard/districts/"])
def test_an_unknown_format_is_a_400_naming_the_field_not_a_bare_404(api_as, api_client, path):
    response = api_as(StateOfficialFactory()).get(path, {"format": "xml"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "csv" in error["fields"]["format"][0]
    assert_documented(response, "GET", path)
    assert api_client.get(path, {"format": "xml"}).status_code == 400  # negotiated before authentication
    assert api_as(StateOfficialFactory()).get(path, {"format": "csv"}).status_code == 200
