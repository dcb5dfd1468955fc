#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis on loopback for the test suite. Source it, then call
# services_start (exports DATABASE_URL, REDIS_URL, CELERY_BROKER_URL) and services_stop.
# abdm_sandbox_start [N] (after services_start) adds N local ABDM sandboxes (default 1) on free ports, with their own
# databases on the same PostgreSQL, and exports the ABDM_* URLs the portal and the tests read; services_stop stops them.
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` user, with its
# data directory under /tmp (that user cannot enter /root).
# SERVICES_PG_SETTINGS adds server settings ("-c name=value ..."): the benchmarks give PostgreSQL the memory and
# WAL room a database server has (scripts/bench.sh); the test suite keeps the small defaults.

_free_port() {
  "${PYTHON_BIN:-python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

services_start() {
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$pgbin" ]; then echo "PostgreSQL server binaries not found (apt-get install postgresql)." >&2; return 1; fi
  SERVICES_DIR=$(mktemp -d /tmp/portal-test.XXXXXX)
  export SERVICES_DIR
  chmod 755 "$SERVICES_DIR"
  local as_pg=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    as_pg=(runuser -u postgres --)
    mkdir -p "$SERVICES_DIR/pg" && chown postgres "$SERVICES_DIR/pg"
  else
    mkdir -p "$SERVICES_DIR/pg"
  fi
  PGPORT=$(_free_port)
  export PGPORT
  (cd /tmp && "${as_pg[@]}" "$pgbin/initdb" -D "$SERVICES_DIR/pg/data" -U postgres --auth=trust -E UTF8 --no-locale >"$SERVICES_DIR/initdb.log" 2>&1) \
    || { cat "$SERVICES_DIR/initdb.log" >&2; return 1; }
  (cd /tmp && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$SERVICES_DIR/pg/data" -l "$SERVICES_DIR/pg/log" -w -t 30 \
    -o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$SERVICES_DIR/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 ${SERVICES_PG_SETTINGS:-}" \
    start >/dev/null) || { cat "$SERVICES_DIR/pg/log" >&2; return 1; }
  SERVICES_PGBIN=$pgbin
  export SERVICES_PGBIN

  REDIS_PORT=$(_free_port)
  export REDIS_PORT
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
    --pidfile "$SERVICES_DIR/redis.pid" --dir "$SERVICES_DIR" --logfile "$SERVICES_DIR/redis.log"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

  export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/portal"
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/1"
  echo "Test services: PostgreSQL on 127.0.0.1:$PGPORT, Redis on 127.0.0.1:$REDIS_PORT ($SERVICES_DIR)"
}

abdm_sandbox_start() {
  # abdm_sandbox_start [N]: N sandboxes (default 1), one per pytest-xdist worker, each on a free port with its own database
  # (abdm_sandbox, abdm_sandbox_2, ...) and SMS file; ABDM_SANDBOX_URLS / ABDM_SANDBOX_SMS_FILES list them in order
  # (config/settings/test.py gives worker gwK the K-th), the single-sandbox variables name the first.
  local count=${1:-1} python=${PYTHON_BIN:-python3} n port url urls=() sms_files=()
  for n in $(seq "$count"); do
    port=$(_free_port)
    url="http://127.0.0.1:$port"
    urls+=("$url")
    sms_files+=("$SERVICES_DIR/abdm-sandbox-$n-sms.jsonl")
    # Its own session: a Ctrl-C in the terminal reaches pytest, and services_stop ends the sandbox in order.
    ABDM_SANDBOX_PORT=$port ABDM_SANDBOX_URL=$url ABDM_SANDBOX_SMS_FILE="${sms_files[-1]}" \
      ABDM_SANDBOX_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/abdm_sandbox$([ "$n" = 1 ] || echo "_$n")" \
      setsid "$python" -m abdm_sandbox serve --port "$port" >"$SERVICES_DIR/abdm-sandbox-$n.log" 2>&1 &
    echo $! >"$SERVICES_DIR/abdm-sandbox-$n.pid"
  done
  export ABDM_SANDBOX_URLS="${urls[*]}" ABDM_SANDBOX_SMS_FILES="${sms_files[*]}"
  export ABDM_SANDBOX_URL=${urls[0]} ABDM_SANDBOX_PORT=${urls[0]##*:} ABDM_SANDBOX_SMS_FILE=${sms_files[0]}
  export ABDM_SANDBOX_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/abdm_sandbox"
  export ABDM_GATEWAY_URL="$ABDM_SANDBOX_URL"
  export ABDM_ABHA_URL="$ABDM_SANDBOX_URL/abha/api"
  export ABDM_HFR_URL="$ABDM_SANDBOX_URL/v4/int"
  for n in $(seq "$count"); do
    url=${urls[$((n - 1))]}
    if ! _abdm_sandbox_wait "$url" "$SERVICES_DIR/abdm-sandbox-$n.pid"; then
      echo "The ABDM sandbox on $url did not start:" >&2
      tail -n 20 "$SERVICES_DIR/abdm-sandbox-$n.log" >&2
      return 1
    fi
    echo "Test services: ABDM sandbox on $url (log $SERVICES_DIR/abdm-sandbox-$n.log)"
  done
}

_abdm_sandbox_wait() {
  local python=${PYTHON_BIN:-python3}
  for _ in $(seq 600); do
    "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
      "$1/sandbox/v1/health" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$2")" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

abdm_sandbox_stop() {
  [ -n "${SERVICES_DIR:-}" ] || return 0
  local pidfile pid log
  for pidfile in "$SERVICES_DIR"/abdm-sandbox-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # setsid made it a session (and group) leader: the signal reaches gunicorn and its worker.
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile"
    # Its log goes with SERVICES_DIR: show the errors it logged (a 500 it answered) before they are gone.
    log=${pidfile%.pid}.log
    if grep -q "Traceback" "$log" 2>/dev/null; then
      echo "The ABDM sandbox logged errors during the run (last 60 lines of $(basename "$log")):" >&2
      grep -v '^abdm-sandbox 127.0.0.1 ' "$log" | tail -n 60 >&2
    fi
  done
}

services_stop() {
  [ -n "${SERVICES_DIR:-}" ] && [ -d "$SERVICES_DIR" ] || return 0
  abdm_sandbox_stop
  local as_pg=()
  [ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
  if [ -f "$SERVICES_DIR/pg/data/postmaster.pid" ]; then
    (cd /tmp && "${as_pg[@]}" "$SERVICES_PGBIN/pg_ctl" -D "$SERVICES_DIR/pg/data" -m fast -w stop >/dev/null 2>&1) \
      || kill "$(head -n 1 "$SERVICES_DIR/pg/data/postmaster.pid")" 2>/dev/null || true
  fi
  if [ -f "$SERVICES_DIR/redis.pid" ]; then
    kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$SERVICES_DIR"
  echo "Test services stopped."
}
