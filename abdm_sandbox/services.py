"""Writes of the sandbox gateway."""

import hashlib
import hmac

from django.conf import settings
from django.db import transaction

from .models import ApiClient, Bridge


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(client: ApiClient, secret: str) -> bool:
    return hmac.compare_digest(client.secret_sha256, secret_digest(secret))


@transaction.atomic
def ensure_api_clients() -> None:
    """Every client of ABDM_SANDBOX_CLIENTS exists with that secret and has its bridge (bridge ID = client ID);
    clients no longer listed are deactivated (their tokens stop working)."""
    ApiClient.objects.exclude(client_id__in=settings.SANDBOX_CLIENTS).update(active=False)
    for client_id, secret in settings.SANDBOX_CLIENTS.items():
        ApiClient.objects.update_or_create(
            client_id=client_id, defaults={"secret_sha256": secret_digest(secret), "active": True}
        )
        Bridge.objects.get_or_create(bridge_id=client_id, defaults={"name": client_id})
