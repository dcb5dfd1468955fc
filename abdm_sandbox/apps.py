from django.apps import AppConfig


class AbdmSandboxConfig(AppConfig):
    name = "abdm_sandbox"
    label = "abdm_sandbox"
    verbose_name = "Local ABDM sandbox"
