from django.apps import AppConfig


class SandboxConsentConfig(AppConfig):
    name = "abdm_sandbox.consent"
    label = "sandbox_consent"
    verbose_name = "Local ABDM sandbox: consent manager and data flow (M2/M3)"
