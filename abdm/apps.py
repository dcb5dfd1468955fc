from django.apps import AppConfig


class AbdmConfig(AppConfig):
    name = "abdm"
    verbose_name = "ABDM"

    def ready(self):
        from . import access_rules, services  # noqa: F401 - registers access rules and the bridge URL's handler
