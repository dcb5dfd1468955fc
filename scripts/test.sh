#!/usr/bin/env bash
# `make test`: install what the tests need, start throwaway PostgreSQL and Redis and one local ABDM sandbox,
# run the whole suite against them, and stop all three (also on failure or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system_packages.sh postgresql redis-server chromium fonts-noto-core gettext
.venv/bin/python manage.py compilemessages --ignore=.venv --ignore=var -v0
# axe-core for the accessibility checks, pinned in package-lock.json; Node.js from Debian when npm is missing.
command -v npm >/dev/null || scripts/system_packages.sh nodejs npm
mkdir -p var
flock var/npm.lock sh -c 'cmp -s package-lock.json node_modules/.installed-lock.json 2>/dev/null ||
  { npm ci --no-audit --no-fund --loglevel=error >/dev/null && cp package-lock.json node_modules/.installed-lock.json; }'

PYTHON_BIN=.venv/bin/python
# shellcheck source=scripts/test_services.sh
source scripts/test_services.sh
trap services_stop EXIT
# TEST_PROCESSES pytest-xdist processes (default 2, one per core here; 0 runs in this process), whole files per
# process (`--dist loadfile`: a module's shared fixtures are built once). Each gets its own test database, Redis
# databases, media folder and ABDM sandbox (config/settings/test.py).
processes=${TEST_PROCESSES:-2}
services_start
abdm_sandbox_start "$(( processes > 0 ? processes : 1 ))"
export TEST_MEDIA_ROOT="$SERVICES_DIR/media"

export DJANGO_SETTINGS_MODULE=config.settings.test
export DJANGO_ALLOW_ASYNC_UNSAFE=true  # Playwright's sync API runs an event loop beside the ORM
case " $* " in
  *" no:xdist "*) .venv/bin/python -m pytest "$@" ;;  # `-p no:xdist`: plain pytest
  *) .venv/bin/python -m pytest -n "$processes" --dist loadfile "$@" ;;
esac
