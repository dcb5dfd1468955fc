from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from abha import views as abha_views
from core import views as core_views
from facilities import urls as facilities_urls
from scanshare import urls as scanshare_urls
from scanshare import views as scanshare_views

admin.site.site_header = "ABDM State Portal"
admin.site.site_title = "ABDM State Portal"

# Swagger UI: the "split" view serves its start-up code as a script file (same URL, ?script=), so
# scripts stay 'self' only. Its page still has a <style> block and its CSS uses data: images, so
# this one page (no user data in it) allows those; the global policy stays strict.
api_docs = csp_update({"style-src": [UNSAFE_INLINE], "img-src": ["data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    # Django's switch, which also keeps a signed-in citizen's language on their account (abha.views.set_language).
    path("i18n/setlang/", abha_views.set_language, name="set_language"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("api/v1/", include("facilities.api.urls")),
    path("api/v1/", include("abha.api.urls")),
    path("api/v1/", include("scanshare.api.urls")),
    path("api/v1/", include("microsites.api.urls")),
    path("api/v1/", include("records.api.urls")),
    path("api/v1/", include("core.api.urls")),
    # ABDM's gateway calls the bridge back at the webhook paths of the published specs (/api/v3/..., abdm.callbacks).
    path("", include("abdm.urls")),
    # Scan & Share's pages keep the /facilities/ paths and `facilities:` names they were published with.
    path("facilities/", include((facilities_urls.urlpatterns + scanshare_urls.urlpatterns, "facilities"))),
    # The counter QR's public address (facilities/posters.py): /scan/?hip-id=<facility ID>&counter-id=<code>
    path("scan/", scanshare_views.scan, name="scan"),
    # A waiting-hall TV by its display key (a secret made on the facility page; no sign-in on a public screen).
    path("display/<str:key>/", scanshare_views.scan_display_kiosk, name="scan_display_kiosk"),
    path("admin/", admin.site.urls),
    path("abha/", include("abha.urls")),
    path("records/", include("records.urls")),
    path("", include("microsites.urls")),
    path("", include("core.urls")),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
