from __future__ import annotations

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from api.mutations.recording_upload import upload_chunks, upload_limits
from api.policy import policy
from api.types.common import parse_id
from api.types.encounter import Encounter
from api.types.errors import RecordingError, recording_error
from notes.recordings.chunks import append_chunk, finish_recording, report_missing
from notes.recordings.errors import RecordingError as RecordingDomainError
from notes.recordings.errors import RecordingErrorCode
from notes.recordings.records import ChunkRecord


@strawberry.type(description="A received piece of a live recording.")
class RecordingChunk:
    sequence: int = strawberry.field(description="Its position, from 0.")
    sha256: str = strawberry.field(description="SHA-256 of its bytes, hex.")
    byte_size: int = strawberry.field(description="Size in bytes.")
    content_type: str = strawberry.field(description="Detected container type.")
    duration_seconds: float = strawberry.field(description="Duration measured by decoding.")

    @classmethod
    def of(cls, record: ChunkRecord) -> RecordingChunk:
        return cls(
            sequence=record.sequence,
            sha256=record.sha256,
            byte_size=record.byte_size,
            content_type=record.content_type,
            duration_seconds=record.duration_seconds,
        )


@strawberry.input(description="One chunk of a live recording: an audio file of its own, sent in any order.")
class RecordingChunkAppendInput:
    encounter_id: strawberry.ID = strawberry.field(description="The encounter being recorded.")
    sequence: int = strawberry.field(description="The chunk's position, from 0.")
    chunk: Upload = strawberry.field(description="The chunk's audio file.")
    sha256: str = strawberry.field(description="SHA-256 of the chunk's bytes (hex), checked on arrival.")


@strawberry.type(description="The stored chunk, or why it was refused.")
class RecordingChunkAppendPayload:
    chunk: RecordingChunk | None = strawberry.field(description="The chunk as stored.")
    duplicate: bool = strawberry.field(
        default=False, description="True when this exact chunk had already been received (a no-op)."
    )
    errors: list[RecordingError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="Close a live recording.")
class RecordingFinishInput:
    encounter_id: strawberry.ID = strawberry.field(description="The encounter being recorded.")
    expected_chunks: int | None = strawberry.field(
        default=None, description="How many chunks the client sent; lets trailing missing chunks be reported too."
    )


@strawberry.type(description="The encounter whose recording is complete, or the missing chunks.")
class RecordingFinishPayload:
    encounter: Encounter | None = strawberry.field(description="The encounter (status RECORDED, transcript finishing).")
    errors: list[RecordingError] = strawberry.field(description="MISSING_CHUNKS lists the gaps in missingSequences.")


@strawberry.mutation(
    description="Append a chunk of a live recording; the transcript grows as contiguous chunks arrive.",
    extensions=[policy("recording", "create")],
)
async def recording_chunk_append(
    info: strawberry.Info, input: RecordingChunkAppendInput
) -> RecordingChunkAppendPayload:
    context = info.context
    encounter_id = parse_id(input.encounter_id)
    try:
        if encounter_id is None:
            raise RecordingDomainError(RecordingErrorCode.ENCOUNTER_NOT_FOUND, "no such encounter", "encounterId")
        if not isinstance(input.chunk, UploadFile):
            raise RecordingDomainError(RecordingErrorCode.INVALID_INPUT, "chunk must be an uploaded file", "chunk")
        accepted = await append_chunk(
            context.services.database,
            context.services.store,
            context.access,
            encounter_id=encounter_id,
            sequence=input.sequence,
            sha256=input.sha256,
            chunks=upload_chunks(input.chunk),
            limits=upload_limits(context.services.settings),
        )
    except RecordingDomainError as error:
        return RecordingChunkAppendPayload(chunk=None, duplicate=False, errors=[recording_error(error)])
    return RecordingChunkAppendPayload(chunk=RecordingChunk.of(accepted.chunk), duplicate=accepted.duplicate, errors=[])


@strawberry.mutation(
    description="Finish a live recording: gaps are reported; otherwise the chunks become one recording.",
    extensions=[policy("recording", "create")],
)
async def recording_finish(info: strawberry.Info, input: RecordingFinishInput) -> RecordingFinishPayload:
    context = info.context
    encounter_id = parse_id(input.encounter_id)
    try:
        if encounter_id is None:
            raise RecordingDomainError(RecordingErrorCode.ENCOUNTER_NOT_FOUND, "no such encounter", "encounterId")
        finished = await finish_recording(
            context.services.database, context.access, encounter_id=encounter_id, expected_chunks=input.expected_chunks
        )
    except RecordingDomainError as error:
        missing = error.details.get("missingSequences")
        if missing and encounter_id is not None:
            await report_missing(context.services.database, context.access, encounter_id, missing)
        return RecordingFinishPayload(encounter=None, errors=[recording_error(error)])
    record = await context.loaders.encounter.load(finished.encounter_id)
    return RecordingFinishPayload(encounter=Encounter.of(record) if record else None, errors=[])
