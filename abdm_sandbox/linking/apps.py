from django.apps import AppConfig


class SandboxLinkingConfig(AppConfig):
    name = "abdm_sandbox.linking"
    label = "sandbox_linking"
    verbose_name = "Local ABDM sandbox: HIP linking and sharing (M2)"
