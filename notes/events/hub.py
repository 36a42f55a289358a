"""Fan-out of encounter events to subscribers in this process, from PostgreSQL LISTEN/NOTIFY.

Any process (API replica or worker) publishes by inserting an event row and NOTIFYing its id; every
API process listens, fetches the rows, and delivers each event to the subscribers of its encounter.

Authorization is re-decided for every event: one query gives the encounter's current audience (the
users who may see it under the scoping rules); a subscriber outside it, whose role lost the permission,
or whose token expired is told its stream is over. Queues are bounded: a subscriber that falls behind
loses its backlog and is told to resync from its last event id, so memory never grows with a slow client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum

from authz.authorizer import Authorizer
from authz.principal import Principal
from core.db import Database
from core.listener import PgListener
from notes.events.publisher import CHANNEL
from notes.events.repository import EventRecord, audiences, events_after, events_by_id, latest_event_id

log = logging.getLogger(__name__)


class Signal(Enum):
    RESYNC = "RESYNC"  # events may have been lost (slow consumer, or the listener reconnected)
    REVOKED = "REVOKED"  # access ended: the stream must close


@dataclass(eq=False)
class Subscriber:
    encounter_id: uuid.UUID
    principal: Principal
    expires_at: float  # the token's expiry (epoch seconds)
    queue_size: int
    queue: asyncio.Queue[EventRecord | Signal] = field(init=False)
    delivered_at: dict[int, float] = field(default_factory=dict)  # for latency measurement only
    overflows: int = 0

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.queue_size)

    def offer(self, item: EventRecord | Signal) -> None:
        if item is Signal.REVOKED:
            self._clear()
            self.queue.put_nowait(item)
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflows += 1
            self._clear()
            self.queue.put_nowait(Signal.RESYNC)

    def _clear(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()

    async def next(self, wait_s: float) -> EventRecord | Signal | None:
        """The next event or signal; None when nothing arrived within `wait_s` (time to re-check access)."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout=wait_s)
        except TimeoutError:
            return None


class EventHub:
    def __init__(self, database: Database, authorizer: Authorizer, database_url: str, *, queue_size: int = 256) -> None:
        self._database = database
        self._authorizer = authorizer
        self._queue_size = queue_size
        self._subscribers: dict[uuid.UUID, set[Subscriber]] = defaultdict(set)
        self._pending: set[int] = set()
        self._wakeup = asyncio.Event()
        self._last_seen = 0
        self._listener = PgListener(database_url, CHANNEL, self._notified, self._caught_up_after_reconnect)
        self._dispatcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async with self._database.session() as session:
            self._last_seen = await latest_event_id(session)
        self._dispatcher = asyncio.create_task(self._dispatch_forever(), name="event-dispatcher")
        await self._listener.start()

    async def stop(self) -> None:
        await self._listener.stop()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher

    @property
    def listener(self) -> PgListener:
        return self._listener

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def subscribe(self, encounter_id: uuid.UUID, principal: Principal, expires_at: float) -> Subscriber:
        subscriber = Subscriber(encounter_id, principal, expires_at, self._queue_size)
        self._subscribers[encounter_id].add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        group = self._subscribers.get(subscriber.encounter_id)
        if group is not None:
            group.discard(subscriber)
            if not group:
                del self._subscribers[subscriber.encounter_id]

    # -- inbound -------------------------------------------------------------------------------------------
    def _notified(self, payload: str) -> None:
        if payload.isdigit():
            self._pending.add(int(payload))
            self._wakeup.set()

    async def _caught_up_after_reconnect(self) -> None:
        """Deliver what committed while we were disconnected; tell everyone to resync in case an event
        committed out of id order slipped past."""
        async with self._database.session() as session:
            missed = await events_after(session, self._last_seen)
        await self._deliver(missed)
        for group in list(self._subscribers.values()):
            for subscriber in list(group):
                subscriber.offer(Signal.RESYNC)

    async def _dispatch_forever(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            ids, self._pending = sorted(self._pending), set()
            if not ids:
                continue
            try:
                async with self._database.session() as session:
                    events = await events_by_id(session, ids)
                await self._deliver(events)
            except Exception as exc:  # a database hiccup must not kill fan-out; subscribers resync
                log.warning("event dispatch failed (%s); asking subscribers to resync", type(exc).__name__)
                for group in list(self._subscribers.values()):
                    for subscriber in list(group):
                        subscriber.offer(Signal.RESYNC)

    async def _deliver(self, events: list[EventRecord]) -> None:
        if not events:
            return
        self._last_seen = max(self._last_seen, max(e.id for e in events))
        watched = [e for e in events if e.encounter_id in self._subscribers]
        if not watched:
            return
        async with self._database.session() as session:
            audience = await audiences(session, list({e.encounter_id for e in watched}))
        now = time.time()
        for event in watched:
            allowed = audience.get(event.encounter_id, set())
            for subscriber in list(self._subscribers.get(event.encounter_id, ())):
                if self.may_receive(subscriber, allowed, now):
                    subscriber.delivered_at[event.id] = time.perf_counter()
                    subscriber.offer(event)
                else:
                    subscriber.offer(Signal.REVOKED)
                    self.unsubscribe(subscriber)

    def may_receive(self, subscriber: Subscriber, audience: set[uuid.UUID], now: float) -> bool:
        principal = subscriber.principal
        return (
            now < subscriber.expires_at
            and principal.id in audience
            and self._authorizer.allowed(principal, "events", "subscribe")
        )

    async def still_allowed(self, subscriber: Subscriber) -> bool:
        async with self._database.session() as session:
            audience = (await audiences(session, [subscriber.encounter_id]))[subscriber.encounter_id]
        return self.may_receive(subscriber, audience, time.time())
