from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"

    def ready(self):
        from abha.services.account import on_account_change

        from . import access_rules  # noqa: F401 - registers the records models' access rules
        from .services.consent import consents_follow_account

        on_account_change(consents_follow_account)  # an ABHA deactivated, reactivated or deleted: its consents follow
