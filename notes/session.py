"""The reads of one request (or one subscription event).

The hot reads (repositories' `*Reads` classes) run precompiled statements on the read pool, one
connection per statement, so sibling DataLoader batches — which graphql-core dispatches concurrently
— run side by side and no connection is held while the request does anything else. The rest use one
ORM session, opened on first use and shared one statement at a time (an AsyncSession runs one
statement at a time, hence the lock).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Hashable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database


class RequestSession:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._session is None:
                self._session = self._database.sessions()
            yield self._session

    async def fetch(
        self, key: Hashable, build: Callable[[], Executable], values: Mapping[str, Any]
    ) -> Sequence[Mapping[str, Any]]:
        """Rows of the statement `build` makes, compiled once per `key` (see core.db.StatementCache)."""
        compiled = self._database.statements.get(key, build)
        return await self._database.fetch(compiled.sql, compiled.args(values))

    async def close(self) -> None:
        async with self._lock:
            if self._session is not None:
                await self._session.close()  # read-only: closing rolls back the implicit transaction
                self._session = None
