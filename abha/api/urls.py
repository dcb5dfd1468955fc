from django.urls import path

from . import views

urlpatterns = [
    path("abha/enrolment/otp/", views.EnrolmentOtpView.as_view(), name="api-abha-enrol-otp"),
    path("abha/enrolment/otp/resend/", views.OtpResendView.as_view(), name="api-abha-enrol-otp-resend"),
    path("abha/enrolment/verify/", views.EnrolmentVerifyView.as_view(), name="api-abha-enrol-verify"),
    path(
        "abha/enrolment/mobile/verify/", views.EnrolmentMobileVerifyView.as_view(), name="api-abha-enrol-mobile-verify"
    ),
    path("abha/enrolment/suggestions/", views.SuggestionsView.as_view(), name="api-abha-enrol-suggestions"),
    path("abha/enrolment/address-check/", views.AddressCheckView.as_view(), name="api-abha-enrol-address-check"),
    path("abha/enrolment/complete/", views.EnrolmentCompleteView.as_view(), name="api-abha-enrol-complete"),
    path("abha/login/otp/", views.LoginOtpView.as_view(), name="api-abha-login-otp"),
    path("abha/login/otp/resend/", views.LoginOtpResendView.as_view(), name="api-abha-login-otp-resend"),
    path("abha/login/verify/", views.LoginVerifyView.as_view(), name="api-abha-login-verify"),
    path("abha/me/", views.MeView.as_view(), name="api-abha-me"),
    path("abha/me/card.png", views.CardPngView.as_view(), name="api-abha-card-png"),
    path("abha/me/card.pdf", views.CardPdfView.as_view(), name="api-abha-card-pdf"),
    path("abha/lookup/", views.LookupView.as_view(), name="api-abha-lookup"),
]
