from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notes.visitnotes.content import Section
from notes.visitnotes.status import AuthorKind, NoteStatus


@dataclass(frozen=True, slots=True)
class NoteRecord:
    id: uuid.UUID
    encounter_id: uuid.UUID
    organization_id: uuid.UUID
    patient_id: uuid.UUID
    status: NoteStatus
    status_reason: str | None
    template_id: str
    current_version: int
    unsupported_count: int
    contradicted_count: int
    ready_at: datetime | None
    signed_version: int | None
    signed_at: datetime | None
    signed_by: uuid.UUID | None
    content_hash: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NoteVersionRecord:
    id: uuid.UUID
    note_id: uuid.UUID
    version: int
    author_kind: AuthorKind
    author_id: uuid.UUID | None
    drafter_kind: str | None
    drafter_model: str | None
    prompt_version: str | None
    inputs: dict[str, Any]
    sections: tuple[Section, ...]
    omissions: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    content_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AmendmentRecord:
    id: uuid.UUID
    note_id: uuid.UUID
    author_id: uuid.UUID
    reason: str
    text: str
    content_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AcknowledgementRecord:
    id: uuid.UUID
    note_id: uuid.UUID
    finding_id: uuid.UUID
    version: int
    acknowledged_by: uuid.UUID
    acknowledged_at: datetime
