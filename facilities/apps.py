from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "facilities"

    def ready(self):
        from . import access_rules  # noqa: F401 - registers the facility models' access rules
