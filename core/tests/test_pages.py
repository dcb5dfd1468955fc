import pytest

from core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_healthz_is_503_with_retry_after_when_the_broker_is_down(client, settings):
    from config.celery import app

    original = app.conf.broker_write_url
    app.conf.broker_write_url = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_write_url = original
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")
    assert response["Retry-After"] == "30"


def test_home_page_sends_each_user_to_a_task(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/accounts/login/"' in html
    assert 'href="/api/docs/"' in html


@pytest.mark.parametrize(
    "language, expected",
    [("en", "Your health, your records, your consent"), ("hi", "आपका स्वास्थ्य"), ("gu", "તમારું સ્વાસ્થ્ય")],
)
def test_home_page_in_each_language(client, language, expected):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
    assert expected in page.content.decode()
    assert f'<html lang="{language}">' in page.content.decode()


def test_language_switcher_sets_the_language_without_javascript(client):
    response = client.post("/i18n/setlang/", {"language": "gu", "next": "/"})
    assert response.status_code == 302
    assert "તમારું સ્વાસ્થ્ય" in client.get("/").content.decode()


def test_staff_can_sign_in_and_out(client):
    UserFactory(username="officer9")
    response = client.post("/accounts/login/", {"username": "officer9", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert "officer9" in client.get("/").content.decode() or "Test" in client.get("/").content.decode()
    assert client.post("/accounts/logout/").status_code == 302


def test_wrong_password_shows_a_form_error(client):
    UserFactory(username="officer9")
    page = client.post("/accounts/login/", {"username": "officer9", "password": "wrong"})
    assert page.status_code == 200
    assert "form-errors" in page.content.decode()


def test_unknown_page_is_a_friendly_404(client):
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert "This page does not exist." in page.content.decode()


def test_admin_login_page_loads(client):
    assert client.get("/admin/login/").status_code == 200
