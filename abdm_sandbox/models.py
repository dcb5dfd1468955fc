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
    service_id = models.CharField(max_length=100)
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

    class Meta:
        # A facility may be linked to several bridges: one service row per bridge.
        constraints = [models.UniqueConstraint(fields=["bridge", "service_id"], name="one_service_per_bridge")]
        indexes = [models.Index(fields=["service_id"], name="bridge_service_by_id")]

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


class HfrFacility(models.Model):
    """A facility on the sandbox's Health Facility Registry. `facility_id` is `IN` + 10 digits, the LGD state code
    in digits 3-4. Draft facilities are invisible to search, as on ABDM."""

    class Status(models.TextChoices):
        DRAFT = "Draft"
        SUBMITTED = "Submitted"
        APPROVED = "Approved"
        REJECTED = "Rejected"

    facility_id = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=300)
    ownership_code = models.CharField(max_length=2)  # G, P, PP
    system_of_medicine_code = models.CharField(max_length=50, default="M")  # comma-separated codes: M,D,AY...
    facility_type = models.CharField(max_length=100, blank=True)
    facility_type_code = models.CharField(max_length=20, blank=True)
    state_lgd_code = models.CharField(max_length=5)
    state_name = models.CharField(max_length=100)
    district_lgd_code = models.CharField(max_length=6)
    district_name = models.CharField(max_length=100)
    sub_district_lgd_code = models.CharField(max_length=8, blank=True)
    sub_district_name = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=500, blank=True)
    pincode = models.CharField(max_length=6, blank=True)
    latitude = models.CharField(max_length=30, blank=True)
    longitude = models.CharField(max_length=30, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.APPROVED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(facility_id__regex=r"^IN\d{10}$"), name="hfr_facility_id_shape"),
        ]
        # FacilityManagement/v1.5/facility/search filters on state and district
        indexes = [models.Index(fields=["state_lgd_code", "district_lgd_code"], name="hfr_by_place")]

    def __str__(self):
        return f"{self.facility_id} {self.name}"


class HprProfessional(models.Model):
    """A professional on the sandbox's Healthcare Professionals Registry: HPR ID number `71-NNNN-NNNN-NNNN`
    (Luhn-valid when minted here) and HPR ID (address) `name@hpr.abdm`."""

    hpr_id_number = models.CharField(max_length=17, unique=True)  # with dashes, as HPR shows it
    hpr_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    gender = models.CharField(max_length=1, default="U")
    category_id = models.CharField(max_length=10, default="1")  # 1 Doctor, 2 Nurse, 6 Pharmacist
    category_name = models.CharField(max_length=50, default="Doctor")
    sub_category_id = models.CharField(max_length=10, default="1")
    sub_category_name = models.CharField(max_length=100, default="Modern Medicine")
    state_code = models.CharField(max_length=5, blank=True)
    district_code = models.CharField(max_length=6, blank=True)
    registration_number = models.CharField(max_length=100, blank=True)
    council_name = models.CharField(max_length=300, blank=True)
    registration_date = models.CharField(max_length=10, blank=True)
    mobile = models.CharField(max_length=10, blank=True)
    facility_ids = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    council_verified = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.hpr_id_number} {self.name}"


class Fault(models.Model):
    """A fault the sandbox plays on purpose (POST /sandbox/v1/faults), for outage tests that need ABDM slow or
    failing rather than stopped: requests whose path starts with `path_prefix` (and match `method`, when set) wait
    `delay_seconds`, then get `status` (none: served normally after the delay). `remaining` counts the requests
    still to fail (null: until cleared)."""

    path_prefix = models.CharField(max_length=300)
    method = models.CharField(max_length=10, blank=True)
    status = models.IntegerField(null=True, blank=True)
    code = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=300, blank=True)
    delay_seconds = models.FloatField(default=0)
    remaining = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.method or '*'} {self.path_prefix}: {self.status or 'delay'}"
