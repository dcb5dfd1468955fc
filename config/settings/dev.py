"""Local development and `make run`: DEBUG on, a secret generated once into var/."""

import os

from django.core.management.utils import get_random_secret_key

from .env import env_bool, env_int, env_str

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SMS_BACKEND", "file")

from .base import *  # noqa: E402,F403 - settings modules extend the shared base by design
from .base import VAR_DIR  # noqa: E402 - after the environment defaults above

DEBUG = env_bool("DEBUG", True)
# seed_demo's Gujarat: 1/DEMO_SCALE of the state's figures (100: 4.77 lakh ABHA numbers); 0 seeds the named demo only.
DEMO_SCALE = env_int("DEMO_SCALE", 100, minimum=0)


def _secret_from_var(name: str) -> str:
    """Read a random secret kept in var/, creating it on first use (never committed)."""
    path = VAR_DIR / name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY", "") or _secret_from_var("secret_key")
