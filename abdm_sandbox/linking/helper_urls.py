"""Sandbox-only helpers of M2 (helpers.py), mounted at /sandbox/v1/."""

from django.urls import path

from . import helpers

urlpatterns = [
    path("app/discover", helpers.app_discover),
    path("app/link/init", helpers.app_link_init),
    path("app/link/confirm", helpers.app_link_confirm),
    path("app/links/<uuid:transaction_id>", helpers.app_link),
    path("app/share", helpers.app_share),
    path("app/share/<uuid:request_id>", helpers.app_share_result),
    path("linking/stats", helpers.stats),
    path("linking/care-contexts", helpers.care_contexts),
]
