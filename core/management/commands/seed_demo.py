"""Loads deterministic demo data. Safe to run again: it creates only what is missing."""

import importlib
import os
import random

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core import counters


class Command(BaseCommand):
    help = "Load demo users, facilities, citizens and more (DEBUG only). Each app seeds from its demo.py."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates accounts with a known password: it runs only with DEBUG on.")
        password = os.environ.get("DEMO_PASSWORD", "portal-demo")
        rng = random.Random(20250401)  # fixed seed: the same demo data on every machine
        context = {"rng": rng, "password": password, "out": self.stdout}
        self.stdout.write("Seeding demo data:")
        with transaction.atomic():
            for app_config in apps.get_app_configs():
                try:
                    demo = importlib.import_module(f"{app_config.name}.demo")
                except ModuleNotFoundError as error:
                    if error.name != f"{app_config.name}.demo":
                        raise
                    continue
                context.update(demo.seed(**context) or {})
                # Demo rows are made in bulk, not through the services that keep the dashboard
                # counters: bring them up to date before the next app reads them (microsites do).
                counters.rebuild(fix=True)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
