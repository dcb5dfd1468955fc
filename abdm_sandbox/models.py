"""The sandbox gateway's state: API clients, its keys, bridges and their services, HFR facilities, HPR
professionals. (The ABHA service's state lives in abdm_sandbox/abha/models.py.)"""

from django.db import models


class ApiClient(models.Model):
    """A client ID and secret issued to an integrator (from ABDM_SANDBOX_CLIENTS). The bridge ID is the client ID."""

    client_id = models.CharField(max_length=100, unique=True)
    secret_sha256 = models.CharField(max_length=64)  # a sandbox: a plain digest is enough to not keep it in clear
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.client_id


class KeyPair(models.Model):
    """An RSA key pair of the sandbox (`signing`: session and callback JWTs; `encryption`: M1's public
    certificate), created on first use and kept, so tokens and certificates survive a restart."""

    name = models.CharField(max_length=30, unique=True)
    kid = models.CharField(max_length=100, unique=True)
    private_key_pem = models.TextField()
    certificate_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.name} ({self.kid})"


class Bridge(models.Model):
    """An integrator's bridge: where the gateway sends callbacks (`url`, set by PATCH bridge/url)."""

    bridge_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    blocklisted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.bridge_id


class BridgeService(models.Model):
    """A service (an HIP, HIU, health locker or PHR; for a facility, its HFR ID) registered under a bridge."""

    bridge = models.ForeignKey(Bridge, on_delete=models.PROTECT, related_name="services")
    service_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=300)
    is_hip = models.BooleanField(default=False)
    is_hiu = models.BooleanField(default=False)
    is_health_locker = models.BooleanField(default=False)
    is_phr = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    endpoints = models.JSONField(default=dict, blank=True)
    register_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.service_id

    @property
    def types(self) -> list[str]:
        flags = [("HIP", self.is_hip), ("HIU", self.is_hiu), ("HEALTH_LOCKER", self.is_health_locker)]
        return [name for name, on in [*flags, ("PHR", self.is_phr)] if on]


class CallbackAttempt(models.Model):
    """One callback the sandbox sent to a bridge, and what the bridge answered (for tests and debugging)."""

    bridge_id = models.CharField(max_length=100)
    path = models.CharField(max_length=300)
    request_id = models.CharField(max_length=100)
    status = models.IntegerField(null=True)  # null: the bridge did not answer
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["bridge_id", "-created_at"], name="callback_by_bridge")]

    def __str__(self):
        return f"{self.path} to {self.bridge_id}: {self.status}"
