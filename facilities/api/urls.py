from django.urls import path

from . import directory, professionals, views

urlpatterns = [
    path("directory/facilities/", directory.FacilityDirectoryView.as_view(), name="api-directory-facilities"),
    path(
        "directory/professionals/",
        directory.ProfessionalDirectoryView.as_view(),
        name="api-directory-professionals",
    ),
    path("facilities/", views.FacilityListCreateView.as_view(), name="api-facilities"),
    path("facilities/<uuid:uuid>/", views.FacilityDetailView.as_view(), name="api-facility"),
    path("facilities/<uuid:uuid>/duplicates/", views.FacilityDuplicatesView.as_view(), name="api-facility-duplicates"),
    path("facilities/<uuid:uuid>/submit/", views.FacilitySubmitView.as_view(), name="api-facility-submit"),
    path("facilities/<uuid:uuid>/verify/", views.FacilityVerifyView.as_view(), name="api-facility-verify"),
    path(
        "facilities/<uuid:uuid>/suspend/",
        views.FacilityStatusView.as_view(action="suspend"),
        name="api-facility-suspend",
    ),
    path(
        "facilities/<uuid:uuid>/reinstate/",
        views.FacilityStatusView.as_view(action="reinstate"),
        name="api-facility-reinstate",
    ),
    path("facilities/<uuid:uuid>/close/", views.FacilityStatusView.as_view(action="close"), name="api-facility-close"),
    path("facilities/<uuid:uuid>/counters/", views.CounterListCreateView.as_view(), name="api-facility-counters"),
    path(
        "facilities/<uuid:uuid>/counters/<str:code>/",
        views.CounterDetailView.as_view(),
        name="api-facility-counter",
    ),
    path("facilities/<uuid:uuid>/team/", views.TeamView.as_view(), name="api-facility-team"),
    path("facilities/<uuid:uuid>/team/<uuid:member>/", views.TeamMemberView.as_view(), name="api-facility-member"),
    path("facilities/invitations/answer/", views.InvitationAnswerView.as_view(), name="api-invitation-answer"),
    path("professionals/", professionals.ProfessionalListCreateView.as_view(), name="api-professionals"),
    path("professionals/<uuid:uuid>/", professionals.ProfessionalDetailView.as_view(), name="api-professional"),
    path(
        "professionals/<uuid:uuid>/submit/",
        professionals.ProfessionalSubmitView.as_view(),
        name="api-professional-submit",
    ),
    path(
        "professionals/<uuid:uuid>/verify/",
        professionals.ProfessionalVerifyView.as_view(),
        name="api-professional-verify",
    ),
    path(
        "professionals/<uuid:uuid>/facilities/<uuid:facility_uuid>/confirm/",
        professionals.AffiliationConfirmView.as_view(),
        name="api-professional-affiliation-confirm",
    ),
]
