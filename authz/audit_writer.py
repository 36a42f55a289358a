"""Group commit for read audits: many requests' events go to the database in one statement.

A request hands its events to `write()` and waits until they are committed before its response is
sent, so an answer that carried patient data never leaves without its audit row — yet requests do
not queue behind each other's commits: whatever arrives while one batch commits goes in the next.

How a batch is committed: the writer remembers the chain head it wrote last and appends after it in
one autocommit statement under the chain lock (`authz.audit.append_after`); only when another writer
(a mutation's transaction, another process) appended in between does it take the longer way —
a transaction that locks, reads the head and inserts (`append_events`). Under load each of those
round trips waits for a turn of a busy event loop, so one round trip instead of five is what keeps
the audit wait (and with it every read's latency) short.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence

from authz.audit import AuditEvent, ChainHead, append_after, append_events
from core.db import Database

log = logging.getLogger(__name__)


class AuditWriter:
    def __init__(self, database: Database, *, max_batch: int = 2_000) -> None:
        self._database = database
        self._max_batch = max_batch
        self._pending: deque[tuple[Sequence[AuditEvent], asyncio.Future[None]]] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._head: ChainHead | None = None  # the last row this writer appended, if it still is the last

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def write(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        if self._task is None or self._closing:
            # Not running (a CLI command, or shutdown): commit directly rather than drop anything.
            async with self._database.transaction() as session:
                await append_events(session, events)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((events, future))
        self._wakeup.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, size = [], 0
                while self._pending and size < self._max_batch:
                    item = self._pending.popleft()
                    batch.append(item)
                    size += len(item[0])
                await self._commit(batch)
            if self._closing:
                return

    async def _append(self, events: list[AuditEvent]) -> None:
        if self._head is not None:
            async with self._database.acquire() as connection:
                self._head = await append_after(connection, self._head, events)
            if self._head is not None:
                return
        async with self._database.transaction() as session:
            self._head = await append_events(session, events)

    async def _commit(self, batch: list[tuple[Sequence[AuditEvent], asyncio.Future[None]]]) -> None:
        events = [event for events, _ in batch for event in events]
        try:
            await self._append(events)
        except Exception as exc:  # the waiting requests fail rather than answer unaudited
            self._head = None
            log.error("audit batch of %d events failed: %s", len(events), type(exc).__name__)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)
