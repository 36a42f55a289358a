"""Database engine, sessions and the declarative base shared by every package's models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from core.settings import DatabaseSettings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def asyncpg_url(url: str) -> str:
    """Accept any spelling of a PostgreSQL URL and return the SQLAlchemy asyncpg form."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("only PostgreSQL is supported (got a non-postgresql URL)")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The plain libpq form (for psycopg / procrastinate and asyncpg.connect)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(url: str, settings: DatabaseSettings, **overrides: Any) -> AsyncEngine:
    server_settings = {"application_name": "ambient"}
    if settings.statement_timeout_ms:
        server_settings["statement_timeout"] = str(settings.statement_timeout_ms)
    options: dict[str, Any] = {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.pool_timeout_s,
        "pool_pre_ping": False,  # asyncpg reports a dead connection on use; the pool then replaces it
        "connect_args": {"server_settings": server_settings},
    }
    options.update(overrides)
    return create_async_engine(asyncpg_url(url), **options)


@dataclass
class Database:
    """The process's way to get a session. Tests bind it to one connection inside a rolled-back transaction."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> Database:
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False, autoflush=False))

    @classmethod
    def for_connection(cls, connection: AsyncConnection) -> Database:
        """Every session becomes a SAVEPOINT on `connection`; the caller owns the outer transaction."""
        sessions = async_sessionmaker(
            bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
        )
        return cls(connection.engine, sessions)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends normally, rolls back on any exception."""
        async with self.sessions() as session, session.begin():
            yield session
