from django.urls import path

from . import views

urlpatterns = [
    path("scan-share/", views.ShareView.as_view(), name="api-scan-share"),
    path("scan-share/<uuid:uuid>/call/", views.TokenStepView.as_view(step="call"), name="api-scan-share-call"),
    path("scan-share/<uuid:uuid>/done/", views.TokenStepView.as_view(step="done"), name="api-scan-share-done"),
    path(
        "scan-share/<uuid:uuid>/no-show/",
        views.TokenStepView.as_view(step="no_show"),
        name="api-scan-share-no-show",
    ),
    path("facilities/<uuid:uuid>/queue/", views.QueueView.as_view(), name="api-facility-queue"),
]
