"""URL layout: each published spec's `servers[0]` path under the sandbox root, the spec's paths below it.

/api/hiecm/gateway/v3/...   gateway (hiecm-gateway.yaml, https://dev.abdm.gov.in)
/abha/api/v3/...            ABHA M1 (hiecm-m1.yaml, https://abhasbx.abdm.gov.in/abha/api)  abdm_sandbox.abha
/v4/int/...                 HFR/HPR M4 (hiecm-m4.yaml, https://apihspsbx.abdm.gov.in/v4/int)
/sandbox/v1/...             sandbox-only helpers (seeding, tests)
"""

from django.urls import include, path

from . import helpers, registry, views

gateway = [
    path("sessions", views.sessions),
    path(".well-known/openid-configuration", views.openid_configuration),
    path("certs", views.certs),
    path("bridge/url", views.bridge_url),
    path("bridge-services", views.bridge_services),
    path("bridge-service/serviceId/<str:service_id>", views.bridge_service_by_id),
    path("providers", views.providers),
    path("providers/<str:provider_id>", views.provider),
    path("health-lockers", views.health_lockers),
    path("govt-programs", views.govt_programs),
]

sandbox = [
    path("health", helpers.health),
    path("callbacks", helpers.callbacks),
    path("faults", helpers.faults),
]

urlpatterns = [
    path("api/hiecm/gateway/v3/", include(gateway)),
    path("abha/api/", include("abdm_sandbox.abha.urls")),
    path("v4/int/", include(registry.urlpatterns_m4)),
    path("api/", include("abdm_sandbox.linking.urls")),
    path("sandbox/v1/abha/", include("abdm_sandbox.abha.helper_urls")),
    path("sandbox/v1/", include("abdm_sandbox.linking.helper_urls")),
    path("sandbox/v1/", include(sandbox + registry.urlpatterns_helpers)),
    path("api/hiecm/", include("abdm_sandbox.consent.gateway_urls")),
    path("sandbox/v1/", include("abdm_sandbox.consent.helper_urls")),
]
