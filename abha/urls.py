from django.urls import path

from . import views

app_name = "abha"

urlpatterns = [
    path("enrol/", views.enrol_start, name="enrol_start"),
    path("enrol/assisted/<uuid:facility_uuid>/", views.enrol_assisted, name="enrol_assisted"),
    path("enrol/aadhaar/", views.enrol_aadhaar, name="enrol_aadhaar"),
    path("enrol/otp/", views.enrol_otp, name="enrol_otp"),
    path("enrol/mobile/", views.enrol_mobile, name="enrol_mobile"),
    path("enrol/address/", views.enrol_address, name="enrol_address"),
    path("enrol/address/check/", views.enrol_address_check, name="enrol_address_check"),
    path("enrol/done/", views.enrol_done, name="enrol_done"),
    path("enrol/done/card.png", views.enrolled_card, {"fmt": "png"}, name="enrolled_card_png"),
    path("enrol/done/card.pdf", views.enrolled_card, {"fmt": "pdf"}, name="enrolled_card_pdf"),
    path("signin/", views.signin, name="signin"),
    path("signin/otp/", views.signin_otp, name="signin_otp"),
    path("signin/choose/", views.signin_choose, name="signin_choose"),
    path("me/", views.home, name="home"),
    path("me/card.png", views.own_card, {"fmt": "png"}, name="card_png"),
    path("me/card.pdf", views.own_card, {"fmt": "pdf"}, name="card_pdf"),
    path("me/contact/", views.contact, name="contact"),
    path("me/addresses/add/", views.address_add, name="address_add"),
    path("me/addresses/check/", views.address_check_own, name="address_check_own"),
    path("me/mobile/", views.change_start, {"purpose": "mobile"}, name="mobile_change"),
    path("me/deactivate/", views.change_start, {"purpose": "deactivate"}, name="deactivate"),
    path("me/reactivate/", views.change_start, {"purpose": "reactivate"}, name="reactivate"),
    path("me/delete/", views.change_start, {"purpose": "delete"}, name="delete"),
    path("me/confirm/", views.change_confirm, name="change_confirm"),
]
