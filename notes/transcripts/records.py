from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notes.transcripts.status import TranscriptStatus


@dataclass(frozen=True, slots=True)
class WordRecord:
    text: str
    start_ms: int
    end_ms: int
    probability: float


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    id: uuid.UUID
    transcript_id: uuid.UUID
    index: int
    start_ms: int
    end_ms: int
    speaker: str
    text: str
    confidence: float
    words: tuple[WordRecord, ...]


@dataclass(frozen=True, slots=True)
class TranscriptRecord:
    id: uuid.UUID
    encounter_id: uuid.UUID
    organization_id: uuid.UUID
    recording_id: uuid.UUID | None
    live: bool
    status: TranscriptStatus
    reason: str | None
    engine: str | None
    engine_version: str | None
    model_name: str | None
    model_version: str | None
    device: str | None
    compute_type: str | None
    settings: dict[str, Any] | None
    language: str | None
    duration_ms: int
    chunks_done: int
    finished: bool
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
