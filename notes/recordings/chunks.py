"""Live ingestion for long visits: chunks arrive in any order and are transcribed as the contiguous
stretch from sequence 0 grows; `finish` checks for gaps, then a job joins the chunks into one recording.

Each chunk is a decodable audio file on its own (what a phone's recorder writes when it rotates files).
Appends are idempotent: the same sequence with the same bytes is a no-op; different bytes are refused.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.ids import new_id
from core.storage import EncryptedStore
from notes.access import Access, unit_of_work
from notes.encounters.status import EncounterStatus
from notes.encounters.transitions import move_to
from notes.events.kinds import EventKind
from notes.events.publisher import publish
from notes.pipeline.queue import enqueue_live_transcription
from notes.recordings.chunk_repository import ChunkRepository
from notes.recordings.errors import RecordingError, RecordingErrorCode
from notes.recordings.records import ChunkRecord
from notes.recordings.service import UploadLimits, probe_upload, visible_encounter
from notes.recordings.spool import TooLarge, private_tempfile, read_file, spool
from notes.transcripts.repository import TranscriptRepository
from notes.transcripts.status import TranscriptStatus

MAX_SEQUENCE = 100_000


@dataclass(frozen=True)
class ChunkAccepted:
    chunk: ChunkRecord
    duplicate: bool  # the same chunk had already been received


@dataclass(frozen=True)
class FinishAccepted:
    encounter_id: uuid.UUID
    chunks: int


def _valid_sha256(value: str) -> str:
    digest = value.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise RecordingError(RecordingErrorCode.INVALID_INPUT, "sha256 must be 64 hex digits", "sha256")
    return digest


async def _existing_chunk(
    database: Database, access: Access, encounter_id: uuid.UUID, sequence: int, sha256: str
) -> ChunkRecord | None:
    assert access.principal is not None
    async with database.session() as session:
        found = await ChunkRepository(session, access.principal).get(encounter_id, sequence)
    if found is not None and found.sha256 != sha256:
        raise RecordingError(
            RecordingErrorCode.CHUNK_CONFLICT, "a different chunk was already received with this sequence", "sequence"
        )
    return found


async def append_chunk(
    database: Database,
    store: EncryptedStore,
    access: Access,
    *,
    encounter_id: uuid.UUID,
    sequence: int,
    sha256: str,
    chunks: AsyncIterator[bytes],
    limits: UploadLimits,
) -> ChunkAccepted:
    access.require("recording", "create")
    assert access.principal is not None
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise RecordingError(RecordingErrorCode.INVALID_INPUT, f"sequence must be 0-{MAX_SEQUENCE}", "sequence")
    declared = _valid_sha256(sha256)
    encounter = await visible_encounter(database, access, encounter_id)
    with private_tempfile(limits.spool_dir) as path:
        try:
            spooled = await spool(chunks, path, max_bytes=limits.max_bytes)
        except TooLarge as exc:
            raise RecordingError(RecordingErrorCode.TOO_LARGE, "the chunk exceeds the upload limit", "chunk") from exc
        if spooled.sha256 != declared:
            raise RecordingError(
                RecordingErrorCode.CHECKSUM_MISMATCH, "the chunk's bytes do not match its sha256", "sha256"
            )
        existing = await _existing_chunk(database, access, encounter.id, sequence, declared)
        if existing is not None:
            return ChunkAccepted(existing, duplicate=True)
        info = await probe_upload(spooled, limits)
        async with database.session() as session:
            received = await ChunkRepository(session, access.principal).total_seconds(encounter.id)
        if received + info.duration_seconds > limits.max_seconds:
            raise RecordingError(RecordingErrorCode.TOO_LONG, "the recording exceeds the duration limit", "chunk")
        chunk_id = new_id()
        storage_key = f"chunks/{encounter.organization_id}/{encounter.id}/{chunk_id}"
        wrapped = await store.put(storage_key, read_file(spooled.path))
    candidate = ChunkRecord(
        id=chunk_id,
        encounter_id=encounter.id,
        organization_id=encounter.organization_id,
        sequence=sequence,
        storage_key=storage_key,
        wrapped_key=wrapped,
        sha256=declared,
        byte_size=spooled.byte_size,
        content_type=info.content_type,
        duration_seconds=info.duration_seconds,
        channels=info.channels,
        sample_rate=info.sample_rate,
    )
    try:
        async with unit_of_work(database, access) as work:
            transcripts = TranscriptRepository(work.session, access.principal)
            live = await transcripts.open_live(encounter.id, for_update=True)
            if live is None:
                await transcripts.create(
                    encounter_id=encounter.id,
                    organization_id=encounter.organization_id,
                    recording_id=None,
                    live=True,
                    status=TranscriptStatus.PENDING,
                )
            chunk = await ChunkRepository(work.session, access.principal).create(
                created_by=access.user_id, chunk=candidate
            )
            await move_to(work.session, encounter.id, encounter.organization_id, EncounterStatus.RECORDING)
            await publish(
                work.session,
                encounter_id=encounter.id,
                organization_id=encounter.organization_id,
                kind=EventKind.CHUNK_RECEIVED,
                payload={"sequence": sequence},
            )
            await enqueue_live_transcription(work.session, encounter.id)
            work.audit("create", "recording_chunk", chunk.id)
    except IntegrityError:
        # The same sequence committed concurrently (a client retry racing itself): keep the first.
        await store.delete(storage_key)
        raced = await _existing_chunk(database, access, encounter.id, sequence, declared)
        if raced is None:
            raise
        return ChunkAccepted(raced, duplicate=True)
    except BaseException:
        await store.delete(storage_key)
        raise
    return ChunkAccepted(chunk, duplicate=False)


def missing_sequences(received: list[int], expected: int | None) -> list[int]:
    total = expected if expected is not None else (max(received) + 1 if received else 0)
    present = set(received)
    return [sequence for sequence in range(total) if sequence not in present]


async def finish_recording(
    database: Database, access: Access, *, encounter_id: uuid.UUID, expected_chunks: int | None
) -> FinishAccepted:
    """Close a live recording. Gaps (or fewer chunks than `expected_chunks`) are a typed error that lists them."""
    access.require("recording", "create")
    assert access.principal is not None
    if expected_chunks is not None and not 1 <= expected_chunks <= MAX_SEQUENCE + 1:
        raise RecordingError(RecordingErrorCode.INVALID_INPUT, "expectedChunks is out of range", "expectedChunks")
    encounter = await visible_encounter(database, access, encounter_id)
    async with unit_of_work(database, access) as work:
        transcripts = TranscriptRepository(work.session, access.principal)
        live = await transcripts.open_live(encounter.id, for_update=True)
        if live is None:
            raise RecordingError(RecordingErrorCode.NO_LIVE_RECORDING, "no live recording is open", "encounterId")
        received = await ChunkRepository(work.session, access.principal).sequences(encounter.id)
        if expected_chunks is not None and received and max(received) >= expected_chunks:
            raise RecordingError(
                RecordingErrorCode.INVALID_INPUT, "chunks beyond expectedChunks were received", "expectedChunks"
            )
        missing = missing_sequences(received, expected_chunks)
        if missing or not received:
            raise RecordingError(
                RecordingErrorCode.MISSING_CHUNKS,
                "missing chunk sequences: " + ", ".join(map(str, missing[:50])) + ("…" if len(missing) > 50 else ""),
                "expectedChunks",
                details={"missingSequences": missing},
            )
        await transcripts.mark_finished(live.id)
        await move_to(work.session, encounter.id, encounter.organization_id, EncounterStatus.RECORDED)
        await enqueue_live_transcription(work.session, encounter.id)
        work.audit("update", "recording", None)
    return FinishAccepted(encounter.id, len(received))


async def report_missing(database: Database, access: Access, encounter_id: uuid.UUID, missing: list[int]) -> None:
    """Tell subscribers which chunks a finish attempt found missing (the client gets the error itself)."""
    assert access.principal is not None
    encounter = await visible_encounter(database, access, encounter_id)
    async with database.transaction() as session:
        await publish(
            session,
            encounter_id=encounter.id,
            organization_id=encounter.organization_id,
            kind=EventKind.CHUNKS_MISSING,
            payload={"missing": missing[:1000]},
        )
