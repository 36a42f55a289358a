"""One read session per request, shared by its resolvers one statement batch at a time.

graphql-core resolves sibling fields concurrently, and an AsyncSession runs one statement at a time,
so access is serialised with a lock; DataLoaders keep the number of statements small anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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

    async def close(self) -> None:
        async with self._lock:
            if self._session is not None:
                await self._session.close()  # read-only: closing rolls back the implicit transaction
                self._session = None
