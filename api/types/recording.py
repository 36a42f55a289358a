from __future__ import annotations

from datetime import datetime

import strawberry

from notes.recordings.records import RecordingRecord


@strawberry.type(description="Audio uploaded for an encounter, stored encrypted. The bytes are never served here.")
class Recording:
    id: strawberry.ID = strawberry.field(description="Stable identifier.")
    sha256: str = strawberry.field(description="SHA-256 of the uploaded bytes, hex.")
    byte_size: int = strawberry.field(description="Size of the uploaded file in bytes.")
    content_type: str = strawberry.field(description="Detected container type, e.g. audio/wav.")
    duration_seconds: float = strawberry.field(description="Duration measured by decoding the audio.")
    channels: int = strawberry.field(description="Audio channels (2 = clinician and patient on separate channels).")
    sample_rate: int = strawberry.field(description="Samples per second.")
    created_at: datetime = strawberry.field(description="When the upload was accepted.")

    @classmethod
    def of(cls, record: RecordingRecord) -> Recording:
        return cls(
            id=strawberry.ID(str(record.id)),
            sha256=record.sha256,
            byte_size=record.byte_size,
            content_type=record.content_type,
            duration_seconds=record.duration_seconds,
            channels=record.channels,
            sample_rate=record.sample_rate,
            created_at=record.created_at,
        )
