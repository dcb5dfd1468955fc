"""Production settings plus the bench's bare-insert endpoint and an SMS backend the clients can read."""

from config.settings.prod import *  # noqa: F403 - the bench measures the production shape

ROOT_URLCONF = "bench.enrolment_support.urls"
