from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"

    def ready(self):
        from . import access_rules  # noqa: F401 - registers the records models' access rules
