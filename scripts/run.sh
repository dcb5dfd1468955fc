#!/usr/bin/env bash
# `make run`: the embedded PostgreSQL and Redis (config/embedded.py, data under var/), migrations, demo data, then
# web, Celery worker and beat and the local ABDM sandbox (abdm_sandbox/, port ABDM_SANDBOX_PORT, default 8001, its
# database `abdm_sandbox` on the same PostgreSQL) under honcho. Ctrl-C stops all six. DATABASE_URL / REDIS_URL
# point at other servers; ABDM_GATEWAY_URL / ABDM_ABHA_URL / ABDM_HFR_URL point the portal at another ABDM.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT=${PORT:-8000}
export PORT
# Fixed before honcho, which hands the worker and beat PORT+100 and PORT+200: their links must name the web port.
export PORTAL_BASE_URL=${PORTAL_BASE_URL:-http://127.0.0.1:$PORT}
# The local ABDM sandbox, and where the portal finds ABDM (unless set to another ABDM) and is called back.
ABDM_SANDBOX_PORT=${ABDM_SANDBOX_PORT:-8001}
export ABDM_SANDBOX_PORT
export ABDM_SANDBOX_URL=${ABDM_SANDBOX_URL:-http://127.0.0.1:$ABDM_SANDBOX_PORT}
export ABDM_GATEWAY_URL=${ABDM_GATEWAY_URL:-$ABDM_SANDBOX_URL}
export ABDM_ABHA_URL=${ABDM_ABHA_URL:-$ABDM_SANDBOX_URL/abha/api}
export ABDM_HFR_URL=${ABDM_HFR_URL:-$ABDM_SANDBOX_URL/v4/int}
export ABDM_BRIDGE_URL=${ABDM_BRIDGE_URL:-$PORTAL_BASE_URL}
export ABDM_SANDBOX_SMS_FILE=${ABDM_SANDBOX_SMS_FILE:-${SMS_FILE_PATH:-${VAR_DIR:-$PWD/var}/sms/outbox.jsonl}}

"$PY" -m config.embedded check-port "$PORT"
if [ "$ABDM_SANDBOX_PORT" = "$PORT" ]; then
  echo "make run: PORT and ABDM_SANDBOX_PORT are both $PORT; pick another for one of them." >&2
  exit 1
fi
# As gunicorn binds (SO_REUSEADDR): connections of a sandbox stopped a moment ago (TIME_WAIT) do not count.
"$PY" -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$ABDM_SANDBOX_PORT" 2>/dev/null || {
  echo "make run: port $ABDM_SANDBOX_PORT, the ABDM sandbox's, is already in use (another \`make run\`, or another" \
    "program). Stop it, or pick another port: ABDM_SANDBOX_PORT=$((ABDM_SANDBOX_PORT + 1)) make run" >&2
  exit 1
}
exports=$("$PY" -m config.embedded start) || exit 1
eval "$exports"
# Stop the embedded servers whichever way this script ends (Ctrl-C, a failed migration, honcho exiting).
sandbox_pid=
stop_sandbox() {
  [ -n "$sandbox_pid" ] || return 0
  kill -TERM -- "-$sandbox_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$sandbox_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$sandbox_pid" 2>/dev/null || true
  sandbox_pid=
}
trap 'stop_sandbox; "$PY" -m config.embedded stop' EXIT
trap 'exit 0' INT TERM

"$PY" manage.py migrate --noinput -v0
# seed_demo creates the demo citizens and facilities in the sandbox too, and the bridge URL is registered with it:
# both run while a sandbox serves (its own session, stopped before honcho starts the one that stays).
sandbox_log=${VAR_DIR:-var}/log/abdm-sandbox-seed.log
mkdir -p "$(dirname "$sandbox_log")"
setsid "$PY" -m abdm_sandbox serve --port "$ABDM_SANDBOX_PORT" >"$sandbox_log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 300); do
  "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "$ABDM_SANDBOX_URL/sandbox/v1/health" >/dev/null 2>&1 && break
  kill -0 "$sandbox_pid" 2>/dev/null || { echo "make run: the ABDM sandbox did not start:" >&2; tail -n 20 "$sandbox_log" >&2; exit 1; }
  sleep 0.1
done
# The demo seed never stops the portal from starting (seed_demo skips what users changed; this covers the rest).
"$PY" manage.py seed_demo || echo "make run: demo data not loaded (see above); serving the portal with the data it has"
# Tell ABDM (the sandbox, or the ABDM the ABDM_* settings name) where the gateway calls this portal back.
"$PY" manage.py abdm_register_bridge || echo "make run: the bridge URL is not registered with ABDM (see above)"
stop_sandbox
echo "Serving http://127.0.0.1:$PORT/ and the ABDM sandbox on $ABDM_SANDBOX_URL (Ctrl-C stops the web server, worker, beat, sandbox, PostgreSQL and Redis)"
# Ctrl-C ends honcho with 130: the normal way to stop, not an error for make.
.venv/bin/honcho -f Procfile.dev start -p "$PORT" || { status=$?; [ "$status" -eq 130 ] || exit "$status"; }
