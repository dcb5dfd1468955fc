from django.apps import AppConfig


class MicrositesConfig(AppConfig):
    name = "microsites"
