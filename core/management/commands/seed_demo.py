"""Loads deterministic demo data. Safe to run again: it creates only what is missing.

`make run` runs it on every start, after people have used the demo: a state official may have suspended the demo
hospital, a citizen deleted their ABHA. An app whose demo can no longer be made as it was (a rule of the domain
refuses it) is skipped with one line saying why, and the others still seed: the portal always starts.
"""

import importlib
import os
import random
import sys

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core import counters
from core.exceptions import DomainError


class Command(BaseCommand):
    help = "Load demo users, facilities, citizens and more (DEBUG only). Each app seeds from its demo.py."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates accounts with a known password: it runs only with DEBUG on.")
        password = os.environ.get("DEMO_PASSWORD", "portal-demo")
        rng = random.Random(20250401)  # fixed seed: the same demo data on every machine
        context = {"rng": rng, "password": password, "out": self.stdout}
        self.stdout.write("Seeding demo data:")
        try:
            self._seed(context)
        except KeyboardInterrupt:  # Ctrl-C in `make run` while seeding: one line, not a traceback
            self.stderr.write("seed_demo: stopped (Ctrl-C); nothing of this run was kept.")
            sys.exit(130)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _seed(self, context):
        with transaction.atomic():
            for app_config in apps.get_app_configs():
                try:
                    demo = importlib.import_module(f"{app_config.name}.demo")
                except ModuleNotFoundError as error:
                    if error.name != f"{app_config.name}.demo":
                        raise
                    continue
                writes = _writes()
                try:
                    with transaction.atomic():  # a savepoint: a refused app leaves nothing half made
                        made = demo.seed(**context) or {}
                        counted = made.pop("counters_exact", False)
                        context.update(made)
                except DomainError as refused:
                    self.stdout.write(
                        self.style.WARNING(
                            f"  {app_config.label}: demo skipped, the demo was changed ({refused.message})"
                        )
                    )
                    continue
                # Demo rows are made in bulk, not through the services that keep the dashboard
                # counters: bring them up to date before the next app reads them (microsites do). Not when
                # the app wrote nothing (a restart: a rebuild reads every counted table) or kept its counters.
                if not counted and _writes() != writes:
                    counters.rebuild(fix=True)


def _writes() -> int:
    """Rows this transaction has inserted, updated or deleted so far (PostgreSQL's statistics of the transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables")
        return cursor.fetchone()[0]
