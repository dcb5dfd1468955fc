"""The portal's URLs plus /bench/insert/: a bare DRF view that inserts one row (the baseline)."""

import os

import redis
from django.db import connection
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as portal_urlpatterns


class BareInsert(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []

    def post(self, request):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_row (mobile) VALUES (%s) RETURNING id", [request.data.get("mobile", "")])
            row_id = cursor.fetchone()[0]
        return Response({"id": row_id}, status=201)


class RedisSmsBackend:
    """Keeps the last SMS per mobile in Redis, where the bench clients read the OTP."""

    client = None

    def send(self, to: str, text: str) -> None:
        if RedisSmsBackend.client is None:
            RedisSmsBackend.client = redis.Redis.from_url(os.environ["BENCH_SMS_REDIS_URL"])
        RedisSmsBackend.client.set(f"bench-sms:{to}", text, ex=600)


urlpatterns = [path("bench/insert/", BareInsert.as_view()), *portal_urlpatterns]
