#!/usr/bin/env bash
# `make run`: the embedded PostgreSQL and Redis (config/embedded.py, data under var/), migrations, demo data, then
# web, Celery worker and beat under honcho. Ctrl-C stops all five. DATABASE_URL / REDIS_URL point at other servers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT=${PORT:-8000}
export PORT
# Fixed before honcho, which hands the worker and beat PORT+100 and PORT+200: their links must name the web port.
export PORTAL_BASE_URL=${PORTAL_BASE_URL:-http://127.0.0.1:$PORT}

"$PY" -m config.embedded check-port "$PORT"
exports=$("$PY" -m config.embedded start) || exit 1
eval "$exports"
# Stop the embedded servers whichever way this script ends (Ctrl-C, a failed migration, honcho exiting).
trap '"$PY" -m config.embedded stop' EXIT
trap 'exit 0' INT TERM

"$PY" manage.py migrate --noinput -v0
# The demo seed never stops the portal from starting (seed_demo skips what users changed; this covers the rest).
"$PY" manage.py seed_demo || echo "make run: demo data not loaded (see above); serving the portal with the data it has"
echo "Serving http://127.0.0.1:$PORT/  (Ctrl-C stops the web server, worker, beat, PostgreSQL and Redis)"
# Ctrl-C ends honcho with 130: the normal way to stop, not an error for make.
.venv/bin/honcho -f Procfile.dev start -p "$PORT" || { status=$?; [ "$status" -eq 130 ] || exit "$status"; }
