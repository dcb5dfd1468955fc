"""ABDM's errors where a view did not catch them: the API's error shape (503 + Retry-After while ABDM is not
answering, 400 for a refusal), and the portal's error page in the reader's language, never a 500."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("abdm.tests.error_urls")]


def test_the_api_answers_503_with_retry_after_while_abdm_is_not_answering(client, private_gateway):
    private_gateway.stop()
    response = client.get("/api/v1/abdm-test/")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response.json() == {
        "error": {
            "code": "abdm_unavailable",
            "message": "ABDM is not answering. Please try again in a minute.",
            "fields": {},
        }
    }
    private_gateway.start()
    assert client.get("/api/v1/abdm-test/").status_code == 200


def test_the_api_answers_an_abdm_refusal_with_400_and_the_plain_reason(client, sandbox):
    response = client.post("/api/v1/abdm-test/")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "abdm_refused" and error["message"].startswith("ABDM refused the portal's request")


def test_a_page_shows_the_outage_in_the_readers_language(client, private_gateway):
    private_gateway.stop()
    response = client.get("/abdm-test/", headers={"Accept-Language": "gu"})
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "ABDM જવાબ આપતું નથી" in response.content.decode()
