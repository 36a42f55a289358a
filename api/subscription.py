"""Live updates over graphql-transport-ws. Authorized at subscribe time and again for every event
(see notes.events.hub); each start and end is audited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError

from api.context import Context
from api.policy import policy
from api.types.common import parse_id
from api.types.note import Note
from notes.encounters.status import EncounterStatus
from notes.events.hub import EventHub, Signal, Subscriber
from notes.events.kinds import EventKind
from notes.events.repository import EventRecord, events_after

RECHECK_EVERY_S = 10.0  # with no events, re-check access this often (a role can be removed silently)
NOTE_EVENTS = {EventKind.CLAIMS_CHECKED, EventKind.NOTE_EDITED, EventKind.NOTE_SIGNED, EventKind.NOTE_AMENDED}


@strawberry.enum(
    description="What happened. RESYNC_REQUIRED: events may have been missed; re-query or resubscribe with `since`."
)
class EncounterEventKind(Enum):
    STATUS_CHANGED = "STATUS_CHANGED"
    CHUNK_RECEIVED = "CHUNK_RECEIVED"
    CHUNKS_MISSING = "CHUNKS_MISSING"
    SEGMENT_ADDED = "SEGMENT_ADDED"
    TRANSCRIPT_COMPLETED = "TRANSCRIPT_COMPLETED"
    FINDINGS_UPDATED = "FINDINGS_UPDATED"
    NOTE_SECTION_DRAFTED = "NOTE_SECTION_DRAFTED"
    CLAIMS_CHECKED = "CLAIMS_CHECKED"
    NOTE_EDITED = "NOTE_EDITED"
    NOTE_SIGNED = "NOTE_SIGNED"
    NOTE_AMENDED = "NOTE_AMENDED"
    CARE_TEAM_CHANGED = "CARE_TEAM_CHANGED"
    RESYNC_REQUIRED = "RESYNC_REQUIRED"


@strawberry.type(description="One thing that happened to an encounter: ids and small facts, never content.")
class EncounterEvent:
    id: strawberry.ID | None = strawberry.field(description="Event cursor: resubscribe with `since: id` to resume.")
    kind: EncounterEventKind = strawberry.field(description="What happened.")
    encounter_id: strawberry.ID = strawberry.field(description="The encounter.")
    occurred_at: datetime | None = strawberry.field(description="Commit time of the change.")
    status: EncounterStatus | None = strawberry.field(default=None, description="STATUS_CHANGED: the new status.")
    reason: str | None = strawberry.field(default=None, description="STATUS_CHANGED to FAILED: a code.")
    sequence: int | None = strawberry.field(default=None, description="CHUNK_RECEIVED: the chunk.")
    missing_sequences: list[int] | None = strawberry.field(default=None, description="CHUNKS_MISSING: the gaps.")
    transcript_id: strawberry.ID | None = strawberry.field(default=None, description="Transcript events.")
    segment_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="SEGMENT_ADDED: new segments.")
    final: bool | None = strawberry.field(default=None, description="SEGMENT_ADDED: false while live audio continues.")
    transcript_status: str | None = strawberry.field(default=None, description="TRANSCRIPT_COMPLETED: its status.")
    problem_count: int | None = strawberry.field(default=None, description="FINDINGS_UPDATED.")
    medication_count: int | None = strawberry.field(default=None, description="FINDINGS_UPDATED.")
    note_id: strawberry.ID | None = strawberry.field(default=None, description="Note events.")
    section: str | None = strawberry.field(default=None, description="NOTE_SECTION_DRAFTED: the section kind.")
    version: int | None = strawberry.field(default=None, description="The note version the event produced.")
    supported: int | None = strawberry.field(default=None, description="CLAIMS_CHECKED: sentences supported.")
    unsupported: int | None = strawberry.field(default=None, description="CLAIMS_CHECKED: sentences unsupported.")
    contradicted: int | None = strawberry.field(default=None, description="CLAIMS_CHECKED: sentences contradicted.")
    amendment_id: strawberry.ID | None = strawberry.field(default=None, description="NOTE_AMENDED.")

    @classmethod
    def of(cls, event: EventRecord) -> EncounterEvent:
        p: dict[str, Any] = event.payload

        def ids(key: str) -> list[strawberry.ID] | None:
            return [strawberry.ID(v) for v in p[key]] if key in p else None

        def one(key: str) -> strawberry.ID | None:
            return strawberry.ID(p[key]) if p.get(key) else None

        return cls(
            id=strawberry.ID(str(event.id)),
            kind=EncounterEventKind(event.kind),
            encounter_id=strawberry.ID(str(event.encounter_id)),
            occurred_at=event.created_at,
            status=EncounterStatus(p["status"]) if event.kind == EventKind.STATUS_CHANGED else None,
            reason=p.get("reason"),
            sequence=p.get("sequence"),
            missing_sequences=p.get("missing"),
            transcript_id=one("transcriptId"),
            segment_ids=ids("segmentIds"),
            final=p.get("final"),
            transcript_status=p.get("status") if event.kind == EventKind.TRANSCRIPT_COMPLETED else None,
            problem_count=p.get("problems"),
            medication_count=p.get("medications"),
            note_id=one("noteId"),
            section=p.get("section"),
            version=p.get("version"),
            supported=p.get("supported"),
            unsupported=p.get("unsupported"),
            contradicted=p.get("contradicted"),
            amendment_id=one("amendmentId"),
        )

    @classmethod
    def resync(cls, encounter_id: uuid.UUID, last: int) -> EncounterEvent:
        return cls(
            id=strawberry.ID(str(last)) if last else None,
            kind=EncounterEventKind.RESYNC_REQUIRED,
            encounter_id=strawberry.ID(str(encounter_id)),
            occurred_at=None,
        )


def _hub(context: Context) -> EventHub:
    if context.hub is None:
        raise GraphQLError("Live updates are not available here.", extensions={"code": "UNAVAILABLE"})
    return context.hub


def _not_found() -> GraphQLError:
    return GraphQLError("No such encounter or note.", extensions={"code": "NOT_FOUND"})


async def _visible_encounter(context: Context, encounter_id: uuid.UUID | None) -> uuid.UUID:
    found = (await context.reader.encounters_by_id([encounter_id]))[0] if encounter_id else None
    await context.end_scope()
    if found is None:
        raise _not_found()
    return found.id


async def _audit(context: Context, action: str, encounter_id: uuid.UUID) -> None:
    context.access.record(action, "encounter_events", encounter_id, "allowed")
    await context.flush_audit()


async def _stream(
    context: Context, subscriber: Subscriber, since: int | None
) -> AsyncGenerator[EventRecord | Signal, None]:
    """Replay after `since`, then live events, until access ends. Signals pass through for the caller."""
    hub = _hub(context)
    last = since or 0
    if since is not None:
        async with context.services.database.session() as session:
            replay = await events_after(session, since, encounter_id=subscriber.encounter_id)
        for event in replay:
            last = event.id
            yield event
    while True:
        item = await subscriber.next(RECHECK_EVERY_S)
        if item is None:
            if not await hub.still_allowed(subscriber):
                return
            continue
        if item is Signal.REVOKED:
            return
        if isinstance(item, EventRecord):
            if item.id <= last:
                continue  # already replayed
            last = item.id
        yield item


def _since(value: strawberry.ID | None) -> int | None:
    if value is None:
        return None
    if not str(value).isdigit():
        raise GraphQLError("`since` must be an event id.", extensions={"code": "BAD_REQUEST"})
    return int(value)


@strawberry.type(description="Live updates (graphql-transport-ws at /graphql; token in connection_init).")
class Subscription:
    @strawberry.subscription(
        description="Everything that happens to an encounter, in order. `since`: resume after an event id.",
        extensions=[policy("events", "subscribe")],
    )
    async def encounter_events(
        self, info: strawberry.Info, encounter_id: strawberry.ID, since: strawberry.ID | None = None
    ) -> AsyncGenerator[EncounterEvent, None]:
        context: Context = info.context
        hub = _hub(context)
        start = _since(since)
        await context.fresh_scope()
        key = await _visible_encounter(context, parse_id(encounter_id))
        assert context.principal is not None
        subscriber = hub.subscribe(key, context.principal, context.token_expires_at)
        await _audit(context, "subscribe", key)
        last = start or 0
        try:
            async for item in _stream(context, subscriber, start):
                if item is Signal.RESYNC:
                    yield EncounterEvent.resync(key, last)
                elif isinstance(item, EventRecord):
                    last = item.id
                    yield EncounterEvent.of(item)
        finally:
            hub.unsubscribe(subscriber)
            await _audit(context, "unsubscribe", key)

    @strawberry.subscription(
        description="The note each time it changes: a new version (drafted, edited), signed, or amended.",
        extensions=[policy("note", "read")],
    )
    async def note_updated(self, info: strawberry.Info, note_id: strawberry.ID) -> AsyncGenerator[Note, None]:
        context: Context = info.context
        hub = _hub(context)
        if not context.access.can("events", "subscribe"):
            raise GraphQLError("You are not allowed to do this.", extensions={"code": "FORBIDDEN"})
        key = parse_id(note_id)
        await context.fresh_scope()
        note = (await context.reader.notes_by_id([key]))[0] if key else None
        await context.end_scope()
        if note is None:
            raise _not_found()
        assert context.principal is not None
        subscriber = hub.subscribe(note.encounter_id, context.principal, context.token_expires_at)
        await _audit(context, "subscribe", note.encounter_id)
        try:
            async for item in _stream(context, subscriber, None):
                relevant = item is Signal.RESYNC or (
                    isinstance(item, EventRecord)
                    and item.kind in NOTE_EVENTS
                    and item.payload.get("noteId") == str(note.id)
                )
                if not relevant:
                    continue
                await context.fresh_scope()  # read the note as it is now, not from an old cache
                current = (await context.reader.notes_by_id([note.id]))[0]
                await context.flush_audit()
                if current is None:
                    return
                yield Note.of(current)
        finally:
            hub.unsubscribe(subscriber)
            await context.end_scope()
            await _audit(context, "unsubscribe", note.encounter_id)
