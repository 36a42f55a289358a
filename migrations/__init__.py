"""Alembic migrations, applied on start (`ambient serve`, `ambient worker`) or with `ambient migrate`.

Migrations run over a synchronous psycopg connection (in a thread): psycopg accepts multi-statement
SQL such as the job queue's schema, which asyncpg's prepared statements do not.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

_MIGRATION_LOCK_KEY = 0x6D696772  # "migr": one process migrates at a time


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """For autogenerate: the job queue's tables are procrastinate's (installed by migration 0002), not our models'."""
    return not (name or "").startswith(("procrastinate", "idx_procrastinate"))


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def upgrade_sync(url: str, revision: str = "head") -> None:
    engine = create_engine(psycopg_url(url), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            # A transaction-scoped lock: released by the commit (or rollback) that ends the migration.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade_sync, url, revision)
