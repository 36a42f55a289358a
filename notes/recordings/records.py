from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from core.crypto import WrappedKey


@dataclass(frozen=True, slots=True)
class RecordingRecord:
    id: uuid.UUID
    encounter_id: uuid.UUID
    organization_id: uuid.UUID
    storage_key: str
    wrapped_key: WrappedKey
    sha256: str
    byte_size: int
    content_type: str
    duration_seconds: float
    channels: int
    sample_rate: int
    idempotency_key: str | None
    created_at: datetime
    source: str = "upload"
    channel_speakers: str = "clinician,patient"


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    id: uuid.UUID
    encounter_id: uuid.UUID
    organization_id: uuid.UUID
    sequence: int
    storage_key: str
    wrapped_key: WrappedKey
    sha256: str
    byte_size: int
    content_type: str
    duration_seconds: float
    channels: int
    sample_rate: int
    created_at: datetime | None = None
