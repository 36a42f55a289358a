"""Accepting a recording: validate it really is audio, seal it in the object store, record the facts.

Order matters for "a bad upload loses nothing and stores nothing": the audio is probed before any
write; the sealed object is written before the row, and deleted again if the row cannot commit.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.ids import new_id
from core.storage import EncryptedStore
from notes.access import Access, unit_of_work
from notes.encounters.records import EncounterRecord
from notes.encounters.repository import EncounterRepository
from notes.encounters.status import EncounterStatus
from notes.encounters.transitions import move_to
from notes.pipeline.queue import enqueue_transcription
from notes.recordings.errors import RecordingError, RecordingErrorCode
from notes.recordings.records import RecordingRecord
from notes.recordings.repository import RecordingRepository
from notes.recordings.spool import SpooledFile, TooLarge, private_tempfile, read_file, spool
from transcription.audio import AudioError, AudioErrorCode, AudioInfo, probe_audio

log = logging.getLogger(__name__)

_AUDIO_ERRORS = {
    AudioErrorCode.EMPTY: RecordingErrorCode.EMPTY_FILE,
    AudioErrorCode.NOT_AUDIO: RecordingErrorCode.NOT_AUDIO,
    AudioErrorCode.CORRUPT: RecordingErrorCode.CORRUPT_AUDIO,
    AudioErrorCode.TOO_LONG: RecordingErrorCode.TOO_LONG,
    AudioErrorCode.UNREADABLE: RecordingErrorCode.CORRUPT_AUDIO,
}
MAX_IDEMPOTENCY_KEY = 128


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_seconds: float
    spool_dir: Path


async def visible_encounter(database: Database, access: Access, encounter_id: uuid.UUID) -> EncounterRecord:
    assert access.principal is not None
    async with database.session() as session:
        encounter = await EncounterRepository(session, access.principal).get(encounter_id)
    if encounter is None:
        access.record("read", "encounter", encounter_id, "denied")
        raise RecordingError(RecordingErrorCode.ENCOUNTER_NOT_FOUND, "no such encounter", "encounterId")
    if encounter.status is EncounterStatus.SIGNED:
        raise RecordingError(RecordingErrorCode.ENCOUNTER_SIGNED, "the encounter's note is signed", "encounterId")
    return encounter


async def probe_upload(spooled: SpooledFile, limits: UploadLimits) -> AudioInfo:
    if spooled.byte_size == 0:
        raise RecordingError(RecordingErrorCode.EMPTY_FILE, "the file is empty", "file")
    try:
        return await asyncio.to_thread(probe_audio, spooled.path, max_duration_seconds=limits.max_seconds)
    except AudioError as exc:
        code = _AUDIO_ERRORS.get(exc.code, RecordingErrorCode.NOT_AUDIO)
        raise RecordingError(code, f"the file was refused: {code.value.lower().replace('_', ' ')}", "file") from exc


async def _existing(
    database: Database, access: Access, encounter_id: uuid.UUID, key: str | None, sha256: str
) -> RecordingRecord | None:
    if key is None:
        return None
    assert access.principal is not None
    async with database.session() as session:
        found = await RecordingRepository(session, access.principal).by_idempotency_key(encounter_id, key)
    if found is not None and found.sha256 != sha256:
        raise RecordingError(
            RecordingErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this idempotency key was used for different audio",
            "idempotencyKey",
        )
    return found


async def upload_recording(
    database: Database,
    store: EncryptedStore,
    access: Access,
    *,
    encounter_id: uuid.UUID,
    chunks: AsyncIterator[bytes],
    idempotency_key: str | None,
    limits: UploadLimits,
    channel_speakers: str = "clinician,patient",
) -> RecordingRecord:
    access.require("recording", "create")
    assert access.principal is not None
    if idempotency_key is not None and not (0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY):
        raise RecordingError(
            RecordingErrorCode.INVALID_INPUT,
            f"idempotencyKey must be 1-{MAX_IDEMPOTENCY_KEY} characters",
            "idempotencyKey",
        )
    encounter = await visible_encounter(database, access, encounter_id)

    with private_tempfile(limits.spool_dir) as path:
        try:
            spooled = await spool(chunks, path, max_bytes=limits.max_bytes)
        except TooLarge as exc:
            raise RecordingError(RecordingErrorCode.TOO_LARGE, "the file exceeds the upload limit", "file") from exc
        existing = await _existing(database, access, encounter.id, idempotency_key, spooled.sha256)
        if existing is not None:
            access.read("recording", existing.id)
            return existing
        info = await probe_upload(spooled, limits)

        recording_id = new_id()
        storage_key = f"recordings/{encounter.organization_id}/{recording_id}"
        wrapped = await store.put(storage_key, read_file(spooled.path))
    try:
        async with unit_of_work(database, access) as work:
            recording = await RecordingRepository(work.session, access.principal).create(
                recording_id=recording_id,
                encounter_id=encounter.id,
                organization_id=encounter.organization_id,
                storage_key=storage_key,
                wrapped_key=wrapped,
                sha256=spooled.sha256,
                byte_size=spooled.byte_size,
                content_type=info.content_type,
                duration_seconds=info.duration_seconds,
                channels=info.channels,
                sample_rate=info.sample_rate,
                idempotency_key=idempotency_key,
                created_by=access.user_id,
                channel_speakers=channel_speakers,
            )
            await move_to(work.session, encounter.id, encounter.organization_id, EncounterStatus.RECORDED)
            await enqueue_transcription(work.session, recording.id, encounter.id)
            work.audit("create", "recording", recording.id)
    except IntegrityError:
        # The same idempotency key committed concurrently: keep theirs, drop our copy.
        await store.delete(storage_key)
        raced = await _existing(database, access, encounter.id, idempotency_key, spooled.sha256)
        if raced is None:
            raise
        return raced
    except BaseException:
        await store.delete(storage_key)
        raise
    return recording
