"""ABDM's ABHA service (hiecm-m1.yaml: server https://abhasbx.abdm.gov.in, paths /abha/api/v3/...), mounted at
/abha/api/ by the sandbox's root urls. Sandbox-only helpers are in helper_urls (/sandbox/v1/abha/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("v3/profile/public/certificate", views.public_certificate),
    path("v3/profile/account/request/token", views.request_token),
    path("v3/enrollment/request/otp", views.enrollment_request_otp),
    path("v3/enrollment/enrol/byAadhaar", views.enrol_by_aadhaar),
    path("v3/enrollment/auth/byAbdm", views.enrol_auth_by_abdm),
    path("v3/enrollment/enrol/suggestion", views.enrol_suggestion),
    path("v3/enrollment/enrol/abha-address", views.enrol_abha_address),
    path("v3/profile/login/request/otp", views.login_request_otp),
    path("v3/profile/login/verify", views.login_verify),
    path("v3/profile/login/verify/user", views.login_verify_user),
    path("v3/profile/login/search", views.login_search),
    path("v3/profile/account/abha/search", views.account_abha_search),
    path("v3/profile/account", views.profile_account_view),
    path("v3/profile/account/abha-card", views.abha_card),
    path("v3/profile/account/qrCode", views.qr_code),
    path("v3/profile/account/request/otp", views.profile_request_otp),
    path("v3/profile/account/verify", views.profile_verify),
    path("v3/phr/web/login/abha/search", views.phr_search),
    path("v3/phr/web/login/abha/request/otp", views.phr_request_otp),
    path("v3/phr/web/login/abha/verify", views.phr_verify),
    path("v3/phr/web/login/profile/abha-profile", views.phr_profile),
    path("v3/phr/web/login/profile/abha/phr-card", views.phr_card),
    path("v3/phr/web/login/profile/abha/qr-code", views.phr_qr_code),
]
