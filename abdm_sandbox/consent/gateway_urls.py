"""The consent manager's gateway paths, mounted at /api/hiecm/ (hiecm-m3.yaml and the HIP half of hiecm-m2.yaml)."""

from django.urls import path

from . import gateway

urlpatterns = [
    path("consent/v3/request/init", gateway.request_init),
    path("consent/v3/request/status", gateway.request_status),
    path("consent/v3/request/hiu/on-notify", gateway.hiu_on_notify),
    path("consent/v3/request/hip/on-notify", gateway.hip_on_notify),
    path("consent/v3/fetch", gateway.consent_fetch),
    path("data-flow/v3/health-information/request", gateway.health_information_request),
    path("data-flow/v3/health-information/hip/on-request", gateway.hip_on_request),
    path("data-flow/v3/health-information/notify", gateway.health_information_notify),
    path("data-flow/v3/health-information/request/status/<str:transaction_id>", gateway.transfer_status),
]
