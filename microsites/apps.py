from django.apps import AppConfig


class MicrositesConfig(AppConfig):
    name = "microsites"

    def ready(self):
        from . import access_rules  # noqa: F401 - registers the microsite models' access rules
