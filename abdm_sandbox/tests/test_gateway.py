"""The sandbox gateway's sessions, keys and bridge operations (hiecm-gateway.yaml), over HTTP."""

import datetime

import jsonschema
import jwt
import pytest
import requests

from . import schemas
from .conftest import CLIENTS, Gateway, standard_headers, timestamp

SESSIONS = "/api/hiecm/gateway/v3/sessions"


def _session(sandbox, body, headers=None):
    return requests.post(sandbox.url + SESSIONS, json=body, headers=headers or standard_headers(), timeout=10)


def test_session_with_client_credentials_answers_the_specs_202(sandbox):
    answer = _session(
        sandbox, {"clientId": "test-bridge", "clientSecret": CLIENTS["test-bridge"], "grantType": "client_credentials"}
    )
    assert answer.status_code == 202
    body = answer.json()
    jsonschema.validate(body, schemas.SESSION)
    assert body["tokenType"] == "bearer"
    assert body["expiresIn"] > 0
    claims = jwt.decode(body["accessToken"], options={"verify_signature": False})
    assert claims["clientId"] == "test-bridge"
    assert claims["exp"] - claims["iat"] == body["expiresIn"]


@pytest.mark.parametrize(
    "body",
    [
        {"clientId": "test-bridge", "clientSecret": "wrong", "grantType": "client_credentials"},
        {"clientId": "nobody", "clientSecret": "test-secret", "grantType": "client_credentials"},
    ],
)
def test_session_with_bad_credentials_is_the_specs_401(sandbox, body):
    answer = _session(sandbox, body)
    assert answer.status_code == 401
    jsonschema.validate(answer.json(), schemas.UNAUTHORIZED)
    assert answer.json()["code"] == "900901"


def test_session_without_a_required_field_is_a_400(sandbox):
    answer = _session(sandbox, {"clientId": "test-bridge", "grantType": "client_credentials"})
    assert answer.status_code == 400
    jsonschema.validate(answer.json(), schemas.WRAPPED_ERROR)


def test_session_needs_the_standard_headers(sandbox):
    body = {"clientId": "test-bridge", "clientSecret": CLIENTS["test-bridge"], "grantType": "client_credentials"}
    no_request_id = {key: value for key, value in standard_headers().items() if key != "REQUEST-ID"}
    assert _session(sandbox, body, no_request_id).status_code == 400

    ist = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=5, minutes=30)))
    answer = _session(sandbox, body, standard_headers(TIMESTAMP=ist.isoformat(timespec="milliseconds")))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "ABDM-1016"

    stale = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    assert _session(sandbox, body, standard_headers(TIMESTAMP=timestamp(stale))).json()["error"]["code"] == "ABDM-1016"

    answer = _session(sandbox, body, standard_headers(**{"X-CM-ID": "abdm"}))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "ABDM-2403"


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt", "Basic dGVzdA=="])
def test_operations_refuse_a_missing_or_bad_token_with_401(sandbox, authorization):
    headers = standard_headers()
    if authorization:
        headers["Authorization"] = authorization
    answer = requests.get(sandbox.url + "/api/hiecm/gateway/v3/bridge-services", headers=headers, timeout=10)
    assert answer.status_code == 401
    jsonschema.validate(answer.json(), schemas.UNAUTHORIZED)


def test_a_refresh_token_is_not_an_access_token(sandbox):
    body = {"clientId": "test-bridge", "clientSecret": CLIENTS["test-bridge"], "grantType": "client_credentials"}
    refresh = _session(sandbox, body).json()["refreshToken"]
    headers = standard_headers(Authorization=f"Bearer {refresh}")
    answer = requests.get(sandbox.url + "/api/hiecm/gateway/v3/bridge-services", headers=headers, timeout=10)
    assert answer.status_code == 401


def test_openid_configuration_points_at_the_certs(sandbox, gateway):
    answer = requests.get(
        sandbox.url + "/api/hiecm/gateway/v3/.well-known/openid-configuration", headers=standard_headers(), timeout=10
    )
    assert answer.status_code == 200
    config = answer.json()
    jsonschema.validate(config, schemas.OPENID_CONFIGURATION)
    assert config["jwks_uri"] == sandbox.url + "/api/hiecm/gateway/v3/certs"
    assert config["issuer"] == sandbox.url

    certs = gateway.call("GET", "/api/hiecm/gateway/v3/certs")
    assert certs.status_code == 200
    jsonschema.validate(certs.json(), schemas.CERTS)
    # The session token itself is signed by a published key.
    key = jwt.PyJWKSet.from_dict(certs.json())[jwt.get_unverified_header(gateway.token)["kid"]]
    claims = jwt.decode(gateway.token, key.key, algorithms=["RS256"], options={"verify_aud": False})
    assert claims["iss"] == config["issuer"]


def test_certs_need_a_session(sandbox):
    answer = requests.get(sandbox.url + "/api/hiecm/gateway/v3/certs", headers=standard_headers(), timeout=10)
    assert answer.status_code == 401


def test_bridge_url_update_shows_in_bridge_services(sandbox):
    gateway = Gateway(sandbox, "other-bridge")
    answer = gateway.call("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": "https://portal.example/abdm"})
    assert answer.status_code == 202
    assert answer.content == b""

    services = gateway.call("GET", "/api/hiecm/gateway/v3/bridge-services")
    assert services.status_code == 200
    jsonschema.validate(services.json(), schemas.BRIDGE_SERVICES)
    assert services.json()["bridge"] == {
        "id": "other-bridge",
        "name": "other-bridge",
        "url": "https://portal.example/abdm",
        "active": True,
        "blocklisted": False,
    }


@pytest.mark.parametrize("body", [{}, {"url": "not a url"}, {"url": 42}])
def test_bridge_url_update_refuses_a_bad_url(gateway, body):
    answer = gateway.call("PATCH", "/api/hiecm/gateway/v3/bridge/url", json=body)
    assert answer.status_code == 400
    jsonschema.validate(answer.json(), schemas.WRAPPED_ERROR)


def test_bridge_url_update_needs_x_cm_id(gateway):
    answer = gateway.call(
        "PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": "https://a.example"}, headers={"X-CM-ID": ""}
    )
    assert answer.status_code == 400


def test_unknown_service_is_no_data_found(gateway):
    answer = gateway.call("GET", "/api/hiecm/gateway/v3/bridge-service/serviceId/IN0000000000")
    assert answer.status_code == 404
    jsonschema.validate(answer.json(), schemas.WRAPPED_ERROR)
    assert answer.json()["error"]["code"] == "ABDM-1001"


def test_an_unknown_path_answers_json(sandbox):
    answer = requests.get(sandbox.url + "/api/hiecm/gateway/v3/nothing-here", timeout=10)
    assert answer.status_code == 404
    jsonschema.validate(answer.json(), schemas.WRAPPED_ERROR)


def test_a_wrong_method_answers_405(gateway):
    answer = gateway.call("DELETE", "/api/hiecm/gateway/v3/bridge-services")
    assert answer.status_code == 405
