from django.apps import AppConfig


class MicrositesConfig(AppConfig):
    name = "microsites"

    def ready(self):
        from . import (
            access_rules,  # noqa: F401 - registers the microsite models' access rules
            counters,  # noqa: F401 - registers the dashboard counters' source queries
        )
