"""Sandbox-only paths of the consent manager, mounted at /sandbox/v1/: the citizen's ABHA app (JSON API and
pages), the expiry helper, and the built-in HIU."""

from django.urls import path

from . import app, hiu

urlpatterns = [
    path("app/", app.home),
    path("app/requests/<str:consent_request_id>", app.request_page),
    path("app/artefacts/<str:artefact_id>/revoke", app.revoke),
    path("app/artefacts/<str:artefact_id>/revoke-page", app.revoke_page),
    path("app/login/otp", app.login_otp),
    path("app/login/verify", app.login_verify),
    path("app/session", app.session),
    path("app/consents", app.consents),
    path("app/consents/<str:consent_request_id>", app.consent),
    path("app/consents/<str:consent_request_id>/grant", app.grant),
    path("app/consents/<str:consent_request_id>/deny", app.deny),
    path("consents/expire-now", app.expire),
    path("hiu/consent-requests", hiu.consent_requests),
    path("hiu/fetch", hiu.fetch),
    path("hiu/fetch/<str:transaction_id>", hiu.fetch_outcome),
    path("hiu/data-push", hiu.data_push),
]
