"""Scan & Share pages. Mounted under /facilities/ in the `facilities` namespace (config/urls.py), so their paths and
names (`facilities:scan_queue`, ...) stay those of the portal's first release; the QR's /scan/ page is mounted at
the root."""

from django.urls import path

from . import views

urlpatterns = [
    path("scan/help/", views.scan_help, name="scan_help"),
    path("scan/history/", views.scan_history, name="scan_history"),
    path("scan/tokens/<uuid:uuid>/", views.scan_token, name="scan_token"),
    path("scan/tokens/<uuid:uuid>/<slug:step>/", views.scan_token_step, name="scan_token_step"),
    path("<uuid:uuid>/scan-queue/", views.scan_queue, name="scan_queue"),
    path("<uuid:uuid>/scan-queue/<str:code>/next/", views.scan_call_next, name="scan_call_next"),
    path("<uuid:uuid>/scan-display/<str:code>/", views.scan_display, name="scan_display"),
    path("<uuid:uuid>/counters/<str:code>/display-key/", views.scan_display_key, name="scan_display_key"),
]
