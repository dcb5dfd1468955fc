from django.urls import path

from . import hiu, views
from .linking import views as linking_views

app_name = "records"

urlpatterns = [
    path("", views.facility_home, name="facility_home"),
    path("add/", views.record_add, name="record_add"),
    path("patient/", views.facility_patient_records, name="facility_patient"),
    path("requests/", views.doctor_requests, name="doctor_requests"),
    # The doctor's consent request goes to ABDM's consent manager (records.hiu); the patient answers in the ABHA app.
    path("requests/new/", views.consent_request_new, name="request_new"),
    path("artefacts/<uuid:uuid>/", views.artefact_records, name="artefact_records"),
    path(
        "artefacts/<uuid:uuid>/records/<uuid:record_uuid>.json",
        views.artefact_record_bundle,
        name="artefact_record_bundle",
    ),
    # ABDM as HIU: a request's status, the records received, and the dataPushUrl HIPs push to.
    path("abdm/requests/<uuid:uuid>/status/", views.hiu_request_status, name="hiu_request_status"),
    path("abdm/artefacts/<uuid:uuid>/", views.hiu_artefact_records, name="hiu_artefact_records"),
    path(
        "abdm/artefacts/<uuid:uuid>/records/<uuid:record_uuid>.json",
        views.hiu_record_bundle,
        name="hiu_record_bundle",
    ),
    path("hiu/data-push/", hiu.data_push, name="hiu_data_push"),
    path("emergency/", views.btg_new, name="btg_new"),
    path("emergency/<uuid:uuid>/", views.btg_records, name="btg_records"),
    path("me/consents/", views.citizen_consents, name="citizen_consents"),
    path("me/consents/<uuid:uuid>/", views.consent_answer, name="consent_answer"),
    path("me/artefacts/<uuid:uuid>/revoke/", views.artefact_revoke, name="artefact_revoke"),
    path("me/access-log/", views.access_log, name="access_log"),
    path("me/", views.my_records, name="my_records"),
    path("me/link/", views.link_find, name="link_find"),
    path("me/link/<uuid:uuid>/", views.link_confirm, name="link_confirm"),
    path("links/<uuid:uuid>/review/", views.link_review, name="link_review"),
    path("linking/", linking_views.linking_home, name="linking"),
    path("linking/review/", linking_views.linking_reviews, name="linking_reviews"),
    path("linking/<uuid:uuid>/", linking_views.linking_job, name="linking_job"),
    path("linking/<uuid:uuid>/progress/", linking_views.linking_progress, name="linking_progress"),
    path("linking/<uuid:uuid>/errors.csv", linking_views.linking_errors, name="linking_errors"),
    path("linking/<uuid:uuid>/cancel/", linking_views.linking_cancel, name="linking_cancel"),
]
