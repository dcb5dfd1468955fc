from django.apps import AppConfig


class AbhaConfig(AppConfig):
    name = "abha"
    verbose_name = "ABHA"

    def ready(self):
        from . import access_rules  # noqa: F401 - registers the ABHA models' access rules
