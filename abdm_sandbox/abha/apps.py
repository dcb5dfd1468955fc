from django.apps import AppConfig


class SandboxAbhaConfig(AppConfig):
    name = "abdm_sandbox.abha"
    # The portal has an app labelled `abha`; this one never shares a process with it, but a distinct label keeps
    # migrations and tables (sandbox_abha_*) unmistakable.
    label = "sandbox_abha"
    verbose_name = "Local ABDM sandbox: ABHA (M1)"
