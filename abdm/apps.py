from django.apps import AppConfig


class AbdmConfig(AppConfig):
    name = "abdm"
    verbose_name = "ABDM"
