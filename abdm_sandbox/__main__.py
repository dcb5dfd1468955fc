"""`python -m abdm_sandbox serve [--port N]`: create the database if missing, migrate, make sure the API clients
of ABDM_SANDBOX_CLIENTS exist (and the keys), then serve with gunicorn (one process, threads).

Also: `python -m abdm_sandbox migrate` (the first three steps only), `python -m abdm_sandbox shell`, and any
other Django management command (`python -m abdm_sandbox showmigrations`).
"""

import argparse
import os
import sys

import psycopg
from psycopg import errors, sql


def create_database_if_missing(url: str) -> None:
    """CREATE DATABASE <name> on the server of `url` when it is not there (a race with another starter is fine)."""
    import dj_database_url  # noqa: PLC0415 - settings need not be loaded for this step

    config = dj_database_url.parse(url)
    name = config["NAME"]
    params = {"dbname": "postgres", "user": config.get("USER") or None, "password": config.get("PASSWORD") or None,
              "host": config.get("HOST") or None, "port": config.get("PORT") or None}  # fmt: skip
    params = {key: value for key, value in params.items() if value}
    with psycopg.connect(**params, autocommit=True, connect_timeout=10) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found:
            return
        try:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"abdm-sandbox: created the database {name}", file=sys.stderr)
        except (errors.DuplicateDatabase, errors.UniqueViolation):
            return  # another sandbox starting at the same moment created it


def prepare() -> None:
    import django  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415

    from abdm_sandbox.settings import sandbox_database_url  # noqa: PLC0415

    create_database_if_missing(sandbox_database_url())
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from abdm_sandbox.keys import ensure_keys  # noqa: PLC0415
    from abdm_sandbox.services import ensure_api_clients  # noqa: PLC0415

    ensure_api_clients()
    ensure_keys()


def serve(port: int, threads: int) -> None:
    os.environ["ABDM_SANDBOX_PORT"] = str(port)
    os.environ.setdefault("ABDM_SANDBOX_URL", f"http://127.0.0.1:{port}")
    prepare()
    from django.conf import settings  # noqa: PLC0415

    print(f"abdm-sandbox: serving {settings.SANDBOX_URL} (gateway /api/hiecm/gateway/v3, ABHA /abha/api, "
          f"HFR /v4/int, helpers /sandbox/v1)", file=sys.stderr, flush=True)  # fmt: skip
    # exec: the server takes this process's id, so whoever started it (honcho, the tests) stops it with one signal.
    os.execv(  # noqa: S606 - the fixed argument list of gunicorn, no shell
        sys.executable,
        [sys.executable, "-m", "gunicorn", "abdm_sandbox.wsgi:application",
         "--bind", f"{os.environ.get('ABDM_SANDBOX_HOST', '127.0.0.1')}:{port}",
         "--workers", "1", "--threads", str(threads), "--timeout", "60", "--graceful-timeout", "5",
         # M1 names a header TRANSACTION_ID: gunicorn drops underscored header names unless told to map them.
         "--header-map", "dangerous",
         "--access-logfile", "-", "--access-logformat", 'abdm-sandbox %(h)s "%(m)s %(U)s" %(s)s %(M)sms',
         "--error-logfile", "-", "--log-level", "warning"],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    # Always its own settings, even from a shell that exported the portal's (the two projects share nothing).
    os.environ["DJANGO_SETTINGS_MODULE"] = "abdm_sandbox.settings"
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        parser = argparse.ArgumentParser(prog="python -m abdm_sandbox serve")
        parser.add_argument("--port", type=int, default=int(os.environ.get("ABDM_SANDBOX_PORT") or 8001))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("ABDM_SANDBOX_THREADS") or 16))
        args = parser.parse_args(argv[1:])
        serve(args.port, args.threads)
        return 0
    if argv[:1] == ["migrate"] and len(argv) == 1:
        prepare()
        return 0
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    execute_from_command_line(["python -m abdm_sandbox", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
