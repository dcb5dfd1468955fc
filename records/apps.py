from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"

    def ready(self):
        from abha.services.account import on_account_change

        from . import abdm_linking, access_rules  # noqa: F401 - access_rules registers the records models' rules

        abdm_linking.register()  # ABDM linking: its models (records/linking/models.py), webhooks and outbox kinds
        from . import hip_transfer

        hip_transfer.register()  # ABDM data flow as HIP: consent notify and health-information request webhooks
        from . import hiu

        hiu.register()  # ABDM as HIU: consent request callbacks, consent notify, artefact fetch, data pull
        from .services.consent import consents_follow_account

        on_account_change(consents_follow_account)  # an ABHA deactivated, reactivated or deleted: its consents follow
