"""The typed per-request context every resolver receives."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property

from strawberry.dataloader import DataLoader

from api.policy import AuthorizationTiming
from authz.principal import Principal
from core.pagination import PageRequest
from notes.access import Access
from notes.bootstrap import Services
from notes.encounters.records import EncounterRecord
from notes.events.hub import EventHub
from notes.findings.records import FindingRecord
from notes.identity.records import UserRecord
from notes.patients.records import PatientRecord
from notes.reader import Reader
from notes.recordings.records import RecordingRecord
from notes.session import RequestSession
from notes.transcripts.records import TranscriptRecord
from notes.visitnotes.records import AcknowledgementRecord, AmendmentRecord, NoteRecord, NoteVersionRecord

NESTED_LIST_LIMIT = 100


class Loaders:
    """One DataLoader per (type, key): nested fields cost one query per type per request.

    Made on first use: a request touches two or three of them, and building all thirteen up front was
    a measurable part of a small request."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    @cached_property
    def patient(self) -> DataLoader[uuid.UUID, PatientRecord | None]:
        return DataLoader(self.reader.patients_by_id)

    @cached_property
    def encounter(self) -> DataLoader[uuid.UUID, EncounterRecord | None]:
        return DataLoader(self.reader.encounters_by_id)

    @cached_property
    def user(self) -> DataLoader[uuid.UUID, UserRecord | None]:
        return DataLoader(self.reader.users_by_id)

    @cached_property
    def recordings_by_encounter(self) -> DataLoader[uuid.UUID, list[RecordingRecord]]:
        return DataLoader(self.reader.recordings_by_encounter)

    @cached_property
    def encounters_by_patient(self) -> DataLoader[uuid.UUID, list[EncounterRecord]]:
        return DataLoader(self._encounters_by_patient)

    @cached_property
    def transcript(self) -> DataLoader[uuid.UUID, TranscriptRecord | None]:
        return DataLoader(self.reader.transcripts_for_encounters)

    @cached_property
    def transcript_text(self) -> DataLoader[uuid.UUID, str]:
        return DataLoader(self.reader.transcript_texts)

    @cached_property
    def findings(self) -> DataLoader[uuid.UUID, list[FindingRecord]]:
        return DataLoader(self.reader.findings_for_encounters)

    @cached_property
    def note_by_encounter(self) -> DataLoader[uuid.UUID, NoteRecord | None]:
        return DataLoader(self.reader.notes_for_encounters)

    @cached_property
    def note(self) -> DataLoader[uuid.UUID, NoteRecord | None]:
        return DataLoader(self.reader.notes_by_id)

    @cached_property
    def note_versions(self) -> DataLoader[uuid.UUID, list[NoteVersionRecord]]:
        return DataLoader(self.reader.note_versions)

    @cached_property
    def note_amendments(self) -> DataLoader[uuid.UUID, list[AmendmentRecord]]:
        return DataLoader(self.reader.note_amendments)

    @cached_property
    def omission_acknowledgements(self) -> DataLoader[uuid.UUID, list[AcknowledgementRecord]]:
        return DataLoader(self.reader.omission_acknowledgements)

    async def _encounters_by_patient(self, ids: list[uuid.UUID]) -> list[list[EncounterRecord]]:
        return await self.reader.encounters_by_patient(ids, limit_each=NESTED_LIST_LIMIT + 1)


@dataclass
class Scope:
    """One unit of reads: a session, the reader over it, and DataLoaders caching within it."""

    session: RequestSession
    reader: Reader
    loaders: Loaders

    @classmethod
    def open(cls, services: Services, access: Access) -> Scope:
        session = RequestSession(services.database)
        reader = Reader(session, access)
        return cls(session, reader, Loaders(reader))


# A subscription yields many results over one connection: each result gets a fresh scope (fresh
# data, not a DataLoader cache from minutes ago). It is set per operation task, so concurrent
# subscriptions on one socket never share one.
_current_scope: ContextVar[Scope | None] = ContextVar("ambient_scope", default=None)


@dataclass
class Context:
    services: Services
    request_id: str
    access: Access
    hub: EventHub | None = None
    auth_error: str | None = None  # why a presented token was refused
    token_expires_at: float = 0.0
    connection_params: dict[str, object] | None = None  # graphql-transport-ws connection_init payload
    authorization_timing: AuthorizationTiming | None = None  # only with AMBIENT_BENCH_TIMINGS=1
    _default: Scope | None = None

    @property
    def principal(self) -> Principal | None:
        return self.access.principal

    @property
    def scope(self) -> Scope:
        current = _current_scope.get()
        if current is not None:
            return current
        if self._default is None:
            self._default = Scope.open(self.services, self.access)
        return self._default

    @property
    def session(self) -> RequestSession:
        return self.scope.session

    @property
    def reader(self) -> Reader:
        return self.scope.reader

    @property
    def loaders(self) -> Loaders:
        return self.scope.loaders

    async def fresh_scope(self) -> None:
        """Close this task's current scope (committing its audit events) and start a new one."""
        current = _current_scope.get()
        if current is not None:
            await current.session.close()
        await self.flush_audit()
        _current_scope.set(Scope.open(self.services, self.access))

    async def end_scope(self) -> None:
        """Close this task's scope (a subscription ending) and commit what it audited."""
        current = _current_scope.get()
        if current is not None:
            await current.session.close()
            _current_scope.set(None)
        await self.flush_audit()

    async def flush_audit(self) -> None:
        await self.services.audit_writer.write(self.access.take_pending())

    def page(self, first: int | None, after: str | None) -> PageRequest[uuid.UUID]:
        api = self.services.settings.api
        return PageRequest.by_uuid(first, after, default=api.default_page_size, maximum=api.max_page_size)

    def position_page(self, first: int | None, after: str | None) -> PageRequest[int]:
        api = self.services.settings.api
        return PageRequest.by_position(first, after, default=api.default_page_size, maximum=api.max_page_size)

    async def finish(self) -> None:
        """Close the read session, then commit the request's audit events before any answer leaves."""
        current = _current_scope.get()
        for scope in (self._default, current):
            if scope is not None:
                await scope.session.close()
        await self.flush_audit()
