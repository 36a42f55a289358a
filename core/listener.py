"""A PostgreSQL LISTEN that survives dropped connections.

asyncpg does not reconnect a listener by itself. This one keeps a dedicated connection, pings it, and
on any failure reconnects with backoff, then calls `on_reconnect` so the caller can catch up on what
it may have missed while disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from core.db import libpq_url

log = logging.getLogger(__name__)


class PgListener:
    def __init__(
        self,
        url: str,
        channel: str,
        on_notify: Callable[[str], None],
        on_reconnect: Callable[[], Awaitable[None]],
        *,
        ping_every_s: float = 5.0,
        max_backoff_s: float = 10.0,
    ) -> None:
        self._url = libpq_url(url)
        self._channel = channel
        self._on_notify = on_notify
        self._on_reconnect = on_reconnect
        self._ping_every = ping_every_s
        self._max_backoff = max_backoff_s
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"listen:{self._channel}")
            await asyncio.wait_for(self.connected.wait(), timeout=30)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drop_connection(self) -> None:
        """For tests and operations: sever the connection as a network failure would."""
        if self._connection is not None:
            self._connection.terminate()

    def _notified(self, connection: object, pid: int, channel: str, payload: str) -> None:
        self._on_notify(payload)

    async def _run(self) -> None:
        backoff = 0.2
        first = True
        while True:
            try:
                connection = await asyncpg.connect(self._url, server_settings={"application_name": "ambient-listen"})
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("event listener cannot connect (%s); retrying in %.1fs", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self._connection = connection
            try:
                await connection.add_listener(self._channel, self._notified)
                self.connected.set()
                backoff = 0.2
                if not first:
                    self.reconnects += 1
                    log.info("event listener reconnected")
                    await self._on_reconnect()
                first = False
                while True:
                    await asyncio.sleep(self._ping_every)
                    await connection.execute("SELECT 1")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("event listener lost its connection (%s); reconnecting", type(exc).__name__)
            finally:
                self.connected.clear()
                self._connection = None
                with contextlib.suppress(Exception):
                    await connection.close(timeout=1)
