"""Database engine, sessions and the declarative base shared by every package's models."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
from sqlalchemy import Dialect, Executable, MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler

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


def _server_settings(settings: DatabaseSettings) -> dict[str, str]:
    server_settings = {"application_name": "ambient"}
    if settings.statement_timeout_ms:
        server_settings["statement_timeout"] = str(settings.statement_timeout_ms)
    if not settings.jit:
        # Our statements are short index look-ups: compiling one costs more than running it.
        server_settings["jit"] = "off"
    return server_settings


def create_engine(url: str, settings: DatabaseSettings, **overrides: Any) -> AsyncEngine:
    """SQLAlchemy's pool: sessions, transactions (writes, the audit chain's locked path) and the colder
    reads. The hot reads use the read pool (`Database.acquire`)."""
    options: dict[str, Any] = {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.pool_timeout_s,
        "pool_recycle": settings.pool_recycle_s,
        "pool_pre_ping": False,  # asyncpg reports a dead connection on use; the pool then replaces it
        "connect_args": {"server_settings": _server_settings(settings)},
    }
    options.update(overrides)
    return create_async_engine(asyncpg_url(url), **options)


async def _keep_session_state(connection: asyncpg.Connection) -> None:
    """The read pool's reset: nothing beyond asyncpg's own (which rolls back a forgotten transaction).
    Its connections only ever run stateless statements, so the default RESET ALL / UNLISTEN / advisory
    unlock round trip on every release (~60 µs of our CPU each) would buy nothing."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement compiled once for asyncpg: its SQL, the order of its positional parameters, and the
    values bound when it was built (a scoping predicate's organization and user, for example)."""

    sql: str
    names: tuple[str, ...]
    bound: Mapping[str, Any]

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        bound = self.bound
        return [values[name] if name in values else bound[name] for name in self.names]


class StatementCache:
    """Hot read statements, compiled once per key and then run straight on asyncpg (bounded LRU).

    Building a SQLAlchemy statement, deriving its cache key and executing it through a Session costs
    several times what asyncpg needs to run it (~300-500 µs against ~60 µs per query on our 2 cores), so
    the API's frequent reads are built once per (query, caller) — the caller's scope is part of the
    statement — and reused.

    The contract: `build` may depend only on what `key` names (the query, the caller, which optional
    filters are present); whatever varies per call must be a `bindparam` whose value comes in `values`.
    A per-call literal would be compiled into the cached statement and silently reused by later calls.
    """

    def __init__(self, dialect: Dialect, maxsize: int = 4096) -> None:
        self._dialect = dialect
        self._maxsize = maxsize
        self._compiled: OrderedDict[Hashable, Compiled] = OrderedDict()
        self._texts: dict[str, str] = {}  # one copy of each SQL text, however many callers share it

    def get(self, key: Hashable, build: Callable[[], Executable]) -> Compiled:
        compiled = self._compiled.get(key)
        if compiled is not None:
            self._compiled.move_to_end(key)
            return compiled
        compiled = self._compile(build())
        self._compiled[key] = compiled
        if len(self._compiled) > self._maxsize:
            self._compiled.popitem(last=False)
        return compiled

    def _compile(self, statement: Executable) -> Compiled:
        compiler = statement.compile(dialect=self._dialect)  # type: ignore[attr-defined]
        assert isinstance(compiler, SQLCompiler)
        if compiler.literal_execute_params or compiler.post_compile_params:
            raise ValueError("precompiled statements cannot expand parameters: use = ANY(:array)")
        sql = compiler.string
        sql = self._texts.setdefault(sql, sql)
        return Compiled(sql, tuple(compiler.positiontup or ()), dict(compiler.params))

    def __len__(self) -> int:
        return len(self._compiled)


class Rows(Protocol):
    """Where precompiled reads run: the request's read connection (notes.session.RequestSession)."""

    async def fetch(
        self, key: Hashable, build: Callable[[], Executable], values: Mapping[str, Any]
    ) -> Sequence[Mapping[str, Any]]: ...


@dataclass
class Database:
    """The process's way to get a session. Tests bind it to one connection inside a rolled-back transaction.

    Besides SQLAlchemy's pool it keeps the *read pool*: plain asyncpg connections, fixed in number,
    lent for one statement at a time, in autocommit (under READ COMMITTED each statement sees its own
    snapshot anyway, so a transaction around reads would only add BEGIN and ROLLBACK round trips).
    Why a second pool: a request that held one SQLAlchemy connection for its whole operation needed as
    many connections as requests in flight, and past pool_size SQLAlchemy's overflow connections are
    closed on return and reopened (TLS probe, authentication, type introspection) — under load that
    churn cost more than the queries. Lent per statement, a handful of connections serve a process at
    any load (a burst waits in the pool's FIFO queue, which is queueing that would otherwise happen on
    the CPU), and asyncpg lends one in ~15 µs where SQLAlchemy's checkout costs ~55 µs.
    """

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    settings: DatabaseSettings = field(default_factory=DatabaseSettings)
    _bound: AsyncConnection | None = None
    statements: StatementCache = field(init=False)
    _read_pool: asyncpg.Pool | None = field(default=None, init=False)
    _read_pool_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _query_loggers: list[Callable[[Any], None]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.statements = StatementCache(self.engine.dialect)
        # Whoever disposes the engine ends the process's use of the database: close the read pool too.
        event.listen(self.engine.sync_engine, "engine_disposed", self._terminate_read_pool)

    @classmethod
    def for_engine(cls, engine: AsyncEngine, settings: DatabaseSettings | None = None) -> Database:
        sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        return cls(engine, sessions, settings or DatabaseSettings())

    @classmethod
    def for_connection(cls, connection: AsyncConnection) -> Database:
        """Every session becomes a SAVEPOINT on `connection`; the caller owns the outer transaction."""
        sessions = async_sessionmaker(
            bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
        )
        return cls(connection.engine, sessions, DatabaseSettings(), connection)

    async def _open_read_pool(self) -> asyncpg.Pool:
        async with self._read_pool_lock:
            if self._read_pool is None:
                settings = self.settings
                self._read_pool = await asyncpg.create_pool(
                    libpq_url(self.engine.url.render_as_string(hide_password=False)),
                    min_size=1,
                    max_size=settings.read_pool_size,
                    max_inactive_connection_lifetime=settings.pool_recycle_s if settings.pool_recycle_s > 0 else 0,
                    reset=_keep_session_state,
                    statement_cache_size=settings.statement_cache_size,
                    server_settings=_server_settings(settings)
                    | ({"plan_cache_mode": "force_generic_plan"} if settings.read_generic_plans else {}),
                )
            return self._read_pool

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        """A read-pool connection for one statement (or a few), outside any transaction."""
        if self._bound is not None:  # tests: stay inside the caller's transaction, one statement at a time
            async with self._read_pool_lock:
                yield (await self._bound.get_raw_connection()).driver_connection
            return
        pool = self._read_pool or await self._open_read_pool()
        async with pool.acquire() as connection:
            if not self._query_loggers:
                yield connection
                return
            for logger in self._query_loggers:
                connection.add_query_logger(logger)
            try:
                yield connection
            finally:
                for logger in self._query_loggers:
                    connection.remove_query_logger(logger)

    async def fetch(self, sql: str, args: Sequence[Any]) -> Sequence[Mapping[str, Any]]:
        """The rows of one statement on the read pool."""
        pool = self._read_pool
        if pool is None or self._query_loggers or self._bound is not None:
            async with self.acquire() as connection:
                rows: Sequence[Mapping[str, Any]] = await connection.fetch(sql, *args)
                return rows
        return await pool.fetch(sql, *args)  # type: ignore[no-any-return]

    def add_query_logger(self, logger: Callable[[Any], None]) -> None:
        """Call `logger` with asyncpg's LoggedQuery for each statement run on the read pool (diagnostics
        and tests; SQLAlchemy's own events cover everything that goes through the engine)."""
        self._query_loggers.append(logger)

    def remove_query_logger(self, logger: Callable[[Any], None]) -> None:
        self._query_loggers.remove(logger)

    def _terminate_read_pool(self, engine: Any) -> None:
        pool, self._read_pool = self._read_pool, None
        if pool is not None:
            pool.terminate()

    async def close(self) -> None:
        pool, self._read_pool = self._read_pool, None
        if pool is not None:
            await pool.close()
        await self.engine.dispose()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends normally, rolls back on any exception."""
        async with self.sessions() as session, session.begin():
            yield session
