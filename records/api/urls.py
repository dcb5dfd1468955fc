from django.urls import path

from ..linking import api as linking
from . import views

urlpatterns = [
    path("linking-jobs/", linking.JobListCreateView.as_view(), name="api-linking-jobs"),
    path("linking-jobs/<uuid:uuid>/", linking.JobDetailView.as_view(), name="api-linking-job"),
    path("linking-jobs/<uuid:uuid>/errors.csv", linking.JobErrorsView.as_view(), name="api-linking-job-errors"),
    path("linking-jobs/<uuid:uuid>/cancel/", linking.JobCancelView.as_view(), name="api-linking-job-cancel"),
    path("linking-reviews/", linking.ReviewListView.as_view(), name="api-linking-reviews"),
    path("linking-reviews/<uuid:uuid>/", linking.ReviewDecideView.as_view(), name="api-linking-review"),
    path("records/", views.RecordListCreateView.as_view(), name="api-records"),
    path("records/links/discover/", views.LinkDiscoverView.as_view(), name="api-link-discover"),
    path("records/links/", views.LinkStartView.as_view(), name="api-links"),
    path("records/links/review/", views.LinkReviewListView.as_view(), name="api-link-review-list"),
    path("records/links/<uuid:uuid>/confirm/", views.LinkConfirmView.as_view(), name="api-link-confirm"),
    path("records/links/<uuid:uuid>/review/", views.LinkReviewView.as_view(), name="api-link-review"),
    path("consents/requests/", views.ConsentRequestListCreateView.as_view(), name="api-consent-requests"),
    path("consents/requests/<uuid:uuid>/grant/", views.ConsentGrantView.as_view(), name="api-consent-grant"),
    path("consents/requests/<uuid:uuid>/deny/", views.ConsentDenyView.as_view(), name="api-consent-deny"),
    path("consents/artefacts/<uuid:uuid>/revoke/", views.ArtefactRevokeView.as_view(), name="api-artefact-revoke"),
    path("consents/artefacts/<uuid:uuid>/records/", views.ArtefactRecordsView.as_view(), name="api-artefact-records"),
    path("consents/abdm/requests/", views.HiuConsentRequestListCreateView.as_view(), name="api-hiu-requests"),
    path(
        "consents/abdm/artefacts/<uuid:uuid>/records/",
        views.HiuArtefactRecordsView.as_view(),
        name="api-hiu-artefact-records",
    ),
    path("consents/btg/", views.BreakGlassCreateView.as_view(), name="api-btg"),
    path("consents/btg/<uuid:uuid>/records/", views.BreakGlassRecordsView.as_view(), name="api-btg-records"),
    path("abha/me/access-log/", views.AccessLogView.as_view(), name="api-access-log"),
]
