"""A URLconf for abdm/tests/test_errors.py: an API view and a page that call ABDM and do not catch its errors."""

from django.http import HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from abdm import client
from config import urls as portal_urls


class CallAbdm(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(client.gateway_request("GET", "/api/hiecm/gateway/v3/certs"))

    def post(self, request):
        return Response(client.gateway_request("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": "nope"}))


def page(request):
    client.gateway_request("GET", "/api/hiecm/gateway/v3/certs")
    return HttpResponse("ABDM answered")


urlpatterns = [
    path("api/v1/abdm-test/", CallAbdm.as_view()),
    path("abdm-test/", page),
    *portal_urls.urlpatterns,  # the error page links to the portal's pages
]
