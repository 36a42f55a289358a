from __future__ import annotations

import uuid
from enum import Enum

import strawberry

from api.policy import policy
from api.types.common import Connection
from notes.transcripts.records import SegmentRecord, TranscriptRecord
from notes.transcripts.status import TranscriptStatus

strawberry.enum(TranscriptStatus, name="TranscriptStatus", description="Where a transcript is.")


@strawberry.enum(description="Who spoke: from the recording's channel when it has one per speaker.")
class Speaker(Enum):
    CLINICIAN = "clinician"
    PATIENT = "patient"
    UNKNOWN = "unknown"


@strawberry.type(description="The speech model that produced a transcript.")
class TranscriptModel:
    engine: str = strawberry.field(description="e.g. faster-whisper.")
    engine_version: str = strawberry.field(description="Engine version.")
    name: str = strawberry.field(description="Model name, e.g. tiny.en.")
    version: str = strawberry.field(description="Short hash of the model weights.")
    device: str = strawberry.field(description="cpu or cuda.")
    compute_type: str = strawberry.field(description="e.g. int8.")


@strawberry.type(description="One recognised word.")
class Word:
    text: str = strawberry.field(description="The word as recognised.")
    start_ms: int = strawberry.field(description="Start, in milliseconds from the start of the recording.")
    end_ms: int = strawberry.field(description="End, in milliseconds.")
    probability: float = strawberry.field(description="Recogniser's probability, 0-1.")


@strawberry.type(description="A stretch of speech by one speaker.")
class TranscriptSegment:
    id: strawberry.ID = strawberry.field(description="Stable identifier (evidence links point here).")
    index: int = strawberry.field(description="Position in the transcript.")
    start_ms: int = strawberry.field(description="Start, in milliseconds from the start of the recording.")
    end_ms: int = strawberry.field(description="End, in milliseconds.")
    speaker: Speaker = strawberry.field(description="Who spoke.")
    text: str = strawberry.field(description="What was said.")
    confidence: float = strawberry.field(description="Recogniser confidence, 0-1.")
    words: list[Word] = strawberry.field(description="Word timings.")

    @classmethod
    def of(cls, record: SegmentRecord) -> TranscriptSegment:
        return cls(
            id=strawberry.ID(str(record.id)),
            index=record.index,
            start_ms=record.start_ms,
            end_ms=record.end_ms,
            speaker=Speaker(record.speaker),
            text=record.text,
            confidence=record.confidence,
            words=[
                Word(text=w.text, start_ms=w.start_ms, end_ms=w.end_ms, probability=w.probability) for w in record.words
            ],
        )


@strawberry.type(description="What was said in an encounter, with timings and provenance.")
class Transcript:
    id: strawberry.ID = strawberry.field(description="Stable identifier.")
    status: TranscriptStatus = strawberry.field(description="PENDING, RUNNING, PARTIAL (live), DONE, EMPTY, FAILED.")
    reason: str | None = strawberry.field(description="Why EMPTY (e.g. NO_SPEECH) or FAILED (a code).")
    live: bool = strawberry.field(description="Built from live chunks as they arrived.")
    model: TranscriptModel | None = strawberry.field(description="The model that produced it (once it ran).")
    duration_seconds: float = strawberry.field(description="Audio covered so far.")
    recording_id: strawberry.ID | None = strawberry.field(description="The recording transcribed.")

    @classmethod
    def of(cls, record: TranscriptRecord) -> Transcript:
        model = None
        if record.model_name is not None:
            model = TranscriptModel(
                engine=record.engine or "",
                engine_version=record.engine_version or "",
                name=record.model_name,
                version=record.model_version or "",
                device=record.device or "",
                compute_type=record.compute_type or "",
            )
        return cls(
            id=strawberry.ID(str(record.id)),
            status=record.status,
            reason=record.reason,
            live=record.live,
            model=model,
            duration_seconds=record.duration_ms / 1000,
            recording_id=strawberry.ID(str(record.recording_id)) if record.recording_id else None,
        )

    @property
    def key(self) -> uuid.UUID:
        return uuid.UUID(self.id)

    @strawberry.field(
        description="The whole text, segments joined in order.", extensions=[policy("transcript", "read")]
    )
    async def text(self, info: strawberry.Info) -> str:
        return str(await info.context.loaders.transcript_text.load(self.key))

    @strawberry.field(description="Segments in order.", extensions=[policy("transcript", "read")])
    async def segments(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[TranscriptSegment]:
        from api.query import pages

        context = info.context
        page = pages(lambda: context.position_page(first, after))
        result = await context.reader.segments(self.key, page)
        return Connection.of(result, TranscriptSegment.of, lambda record: record.index)
