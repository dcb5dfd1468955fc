"""`manage.py abdm_register_bridge`: tell ABDM's gateway where this portal's bridge is (ABDM_BRIDGE_URL), when it
is not the URL ABDM last accepted. Run at start, after migrate (scripts/run.sh).

The update goes through the outbox and is sent here at once; when ABDM is not answering, the command still
succeeds (the portal must start) and the Celery worker sends the update when ABDM is back.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from abdm import outbox
from abdm.services import register_bridge_url


class Command(BaseCommand):
    help = "Register ABDM_BRIDGE_URL with ABDM's gateway when it changed (through the outbox)."

    def handle(self, *args, **options):
        message = register_bridge_url()
        if message is None:
            self.stdout.write(f"ABDM already has the bridge URL {settings.ABDM_BRIDGE_URL}.")
            return
        outbox.deliver(message.pk)
        message.refresh_from_db()
        if message.status in ("sent", "done"):
            self.stdout.write(f"Bridge URL {settings.ABDM_BRIDGE_URL} registered with ABDM.")
        elif message.status == "failed":
            self.stderr.write(f"ABDM refused the bridge URL: {message.error_code} {message.last_error}")
        else:
            self.stdout.write("ABDM did not answer; the worker registers the bridge URL when ABDM is back.")
