from __future__ import annotations

from collections.abc import AsyncIterator
from enum import Enum

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from api.policy import policy
from api.types.common import parse_id
from api.types.errors import RecordingError, recording_error
from api.types.recording import Recording
from core.crypto import CHUNK_SIZE
from core.settings import Settings
from notes.recordings.errors import RecordingError as RecordingDomainError
from notes.recordings.errors import RecordingErrorCode
from notes.recordings.service import UploadLimits, upload_recording


@strawberry.enum(description="Which speaker each channel of a two-channel recording carries.")
class ChannelMapping(Enum):
    CLINICIAN_LEFT = "clinician,patient"
    PATIENT_LEFT = "patient,clinician"

    @property
    def speakers(self) -> str:
        return str(self.value)


@strawberry.input(description="Whole-file audio upload (GraphQL multipart request).")
class RecordingUploadInput:
    encounter_id: strawberry.ID = strawberry.field(description="The encounter the audio belongs to.")
    file: Upload = strawberry.field(description="The audio file (WAV, FLAC, MP3, OGG/Opus, WebM, M4A).")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retry-safe key: the same key and the same bytes give the same recording."
    )
    channel_mapping: ChannelMapping = strawberry.field(
        default=ChannelMapping.CLINICIAN_LEFT,
        description="For two-channel audio: which channel carries whom. Mono audio is speaker UNKNOWN.",
    )


@strawberry.type(description="The stored recording, or why it was refused.")
class RecordingUploadPayload:
    recording: Recording | None = strawberry.field(description="The recording.")
    errors: list[RecordingError] = strawberry.field(description="Empty on success.")


async def upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(
        max_bytes=settings.api.max_upload_bytes,
        max_seconds=settings.api.max_recording_seconds,
        spool_dir=settings.home_path("tmp"),
    )


@strawberry.mutation(
    description="Upload a visit's audio. Stored encrypted; refused unless it decodes as audio.",
    extensions=[policy("recording", "create")],
)
async def recording_upload(info: strawberry.Info, input: RecordingUploadInput) -> RecordingUploadPayload:
    context = info.context
    encounter_id = parse_id(input.encounter_id)
    try:
        if encounter_id is None:
            raise RecordingDomainError(RecordingErrorCode.ENCOUNTER_NOT_FOUND, "no such encounter", "encounterId")
        if not isinstance(input.file, UploadFile):
            raise RecordingDomainError(RecordingErrorCode.INVALID_INPUT, "file must be an uploaded file", "file")
        record = await upload_recording(
            context.services.database,
            context.services.store,
            context.access,
            encounter_id=encounter_id,
            chunks=upload_chunks(input.file),
            idempotency_key=input.idempotency_key,
            channel_speakers=input.channel_mapping.speakers,
            limits=upload_limits(context.services.settings),
        )
    except RecordingDomainError as error:
        return RecordingUploadPayload(recording=None, errors=[recording_error(error)])
    return RecordingUploadPayload(recording=Recording.of(record), errors=[])
