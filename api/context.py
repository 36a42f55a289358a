"""The typed per-request context every resolver receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property

from strawberry.dataloader import DataLoader

from authz.principal import Principal
from core.pagination import PageRequest
from notes.access import Access
from notes.bootstrap import Services
from notes.encounters.records import EncounterRecord
from notes.findings.records import FindingRecord
from notes.identity.records import UserRecord
from notes.patients.records import PatientRecord
from notes.reader import Reader
from notes.recordings.records import RecordingRecord
from notes.session import RequestSession
from notes.transcripts.records import TranscriptRecord
from notes.visitnotes.records import AmendmentRecord, NoteRecord, NoteVersionRecord

NESTED_LIST_LIMIT = 100


@dataclass
class Loaders:
    """One DataLoader per (type, key): nested fields cost one query per type per request."""

    reader: Reader

    def __post_init__(self) -> None:
        self.patient: DataLoader[uuid.UUID, PatientRecord | None] = DataLoader(self.reader.patients_by_id)
        self.encounter: DataLoader[uuid.UUID, EncounterRecord | None] = DataLoader(self.reader.encounters_by_id)
        self.user: DataLoader[uuid.UUID, UserRecord | None] = DataLoader(self.reader.users_by_id)
        self.recordings_by_encounter: DataLoader[uuid.UUID, list[RecordingRecord]] = DataLoader(
            self.reader.recordings_by_encounter
        )
        self.encounters_by_patient: DataLoader[uuid.UUID, list[EncounterRecord]] = DataLoader(
            self._encounters_by_patient
        )
        self.transcript: DataLoader[uuid.UUID, TranscriptRecord | None] = DataLoader(
            self.reader.transcripts_for_encounters
        )
        self.transcript_text: DataLoader[uuid.UUID, str] = DataLoader(self.reader.transcript_texts)
        self.findings: DataLoader[uuid.UUID, list[FindingRecord]] = DataLoader(self.reader.findings_for_encounters)
        self.note_by_encounter: DataLoader[uuid.UUID, NoteRecord | None] = DataLoader(self.reader.notes_for_encounters)
        self.note: DataLoader[uuid.UUID, NoteRecord | None] = DataLoader(self.reader.notes_by_id)
        self.note_versions: DataLoader[uuid.UUID, list[NoteVersionRecord]] = DataLoader(self.reader.note_versions)
        self.note_amendments: DataLoader[uuid.UUID, list[AmendmentRecord]] = DataLoader(self.reader.note_amendments)

    async def _encounters_by_patient(self, ids: list[uuid.UUID]) -> list[list[EncounterRecord]]:
        return await self.reader.encounters_by_patient(ids, limit_each=NESTED_LIST_LIMIT + 1)


@dataclass
class Context:
    services: Services
    request_id: str
    access: Access
    session: RequestSession
    auth_error: str | None = None  # why a presented token was refused
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def principal(self) -> Principal | None:
        return self.access.principal

    @cached_property
    def reader(self) -> Reader:
        return Reader(self.session, self.access)

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.reader)

    def page(self, first: int | None, after: str | None) -> PageRequest[uuid.UUID]:
        api = self.services.settings.api
        return PageRequest.by_uuid(first, after, default=api.default_page_size, maximum=api.max_page_size)

    def position_page(self, first: int | None, after: str | None) -> PageRequest[int]:
        api = self.services.settings.api
        return PageRequest.by_position(first, after, default=api.default_page_size, maximum=api.max_page_size)

    async def finish(self) -> None:
        """Close the read session, then commit the request's audit events before any answer leaves."""
        await self.session.close()
        await self.services.audit_writer.write(self.access.take_pending())
