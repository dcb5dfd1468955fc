from django.apps import AppConfig


class AbhaConfig(AppConfig):
    name = "abha"
