"""M2 operations, mounted at /api/ (hiecm-m2.yaml's servers[0] is https://dev.abdm.gov.in/api)."""

from django.urls import path

from . import views

urlpatterns = [
    path("hiecm/v3/token/generate-token", views.generate_link_token),
    path("hiecm/hip/v3/link/carecontext", views.link_care_context),
    path("hiecm/hip/v3/link/context/notify", views.context_notify),
    path("hiecm/user-initiated-linking/v3/patient/care-context/on-discover", views.on_discover),
    path("hiecm/user-initiated-linking/v3/link/care-context/on-init", views.on_init),
    path("hiecm/user-initiated-linking/v3/link/care-context/on-confirm", views.on_confirm),
    path("hiecm/patient-share/v3/on-share", views.on_share),
]
