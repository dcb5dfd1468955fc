from django.apps import AppConfig


class ScanshareConfig(AppConfig):
    name = "scanshare"
    verbose_name = "Scan & Share"

    def ready(self):
        from abha.services.account import on_account_change

        from . import abdm_share
        from .services import tokens_follow_account

        on_account_change(tokens_follow_account)  # an ABHA deleted: its shared profiles are erased
        abdm_share.register()  # the ABHA app's shares through ABDM (the gateway's patient-share callback)
