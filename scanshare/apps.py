from django.apps import AppConfig


class ScanshareConfig(AppConfig):
    name = "scanshare"
    verbose_name = "Scan & Share"
