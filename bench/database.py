"""A throwaway database for a benchmark run: on AMBIENT_BENCH_DATABASE_URL, else the PostgreSQL on
127.0.0.1:5432 when one answers, else an embedded server. Created with the migrations applied, dropped after."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

import migrations
from core.db import libpq_url
from core.embedded_pg import start_embedded_server


def _server_url(scratch: Path) -> str:
    configured = os.environ.get("AMBIENT_BENCH_DATABASE_URL")
    if configured:
        return configured
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 5432), timeout=1):
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    scratch.chmod(0o755)
    return str(start_embedded_server(scratch).get_uri())


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def bench_database() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="ambient-bench-db-") as scratch:
        server = await asyncio.to_thread(_server_url, Path(scratch))
        name = f"ambient_bench_{secrets.token_hex(4)}"
        await _admin(server, f'CREATE DATABASE "{name}"')
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        try:
            await migrations.upgrade(url)
            yield url
        finally:
            await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
