"""Sandbox-only helpers of the ABHA service (not ABDM's contract), mounted at /sandbox/v1/abha/."""

from django.urls import path

from . import helpers

urlpatterns = [
    path("residents", helpers.residents),
    path("residents/lookup", helpers.resident_lookup),
    path("accounts/bulk", helpers.accounts_bulk),
    path("otp/expire", helpers.otp_expire),
]
