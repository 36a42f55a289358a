"""Transcription steps, written to be re-run safely: a job killed anywhere leaves state a re-run finishes.

- Whole recordings: claim (RUNNING) → decrypt to a private temp file → engine in a thread → replace
  the transcript's segments and mark it DONE/EMPTY in one transaction. A re-run of a finished
  recording does nothing; a re-run of an interrupted one starts over and replaces, never duplicates.
- Live recordings: chunks are transcribed in sequence order as far as they are contiguous. The
  transcript's `chunks_done` cursor advances in the same transaction as that chunk's segments.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from pathlib import Path

from core.crypto import DecryptionError
from core.ids import new_id
from notes.access import unit_of_work
from notes.encounters.records import EncounterRecord
from notes.encounters.repository import EncounterRepository
from notes.encounters.status import EncounterStatus
from notes.encounters.transitions import move_to
from notes.events.kinds import EventKind
from notes.events.publisher import publish
from notes.findings.repository import FindingRepository
from notes.pipeline.queue import enqueue_extraction
from notes.pipeline.runtime import PipelineRuntime
from notes.recordings.chunk_repository import ChunkRepository
from notes.recordings.records import RecordingRecord
from notes.recordings.repository import RecordingRepository
from notes.recordings.spool import private_tempfile, read_file
from notes.transcripts.records import TranscriptRecord
from notes.transcripts.repository import TranscriptRepository
from notes.transcripts.status import TranscriptStatus
from transcription.audio import AudioError
from transcription.types import Segment, Speaker, Transcript

log = logging.getLogger(__name__)
FINAL_STATES = (TranscriptStatus.DONE, TranscriptStatus.EMPTY, TranscriptStatus.FAILED)


def channel_speakers(recording: RecordingRecord) -> tuple[Speaker, Speaker]:
    left, right = recording.channel_speakers.split(",")
    return (left, right)  # type: ignore[return-value]


async def _complete(
    runtime: PipelineRuntime, transcript: TranscriptRecord, encounter: EncounterRecord, result: Transcript | None
) -> None:
    """Store the outcome and move the encounter on; the caller's transcript must be locked or fresh."""
    access = runtime.access("transcriber")
    assert access.principal is not None
    async with unit_of_work(runtime.services.database, access) as work:
        transcripts = TranscriptRepository(work.session, access.principal)
        current = await transcripts.get(transcript.id, for_update=True)
        if current is None or current.status in FINAL_STATES:
            return  # another worker finished it first
        segment_ids: list[uuid.UUID] = []
        if result is not None:
            segment_ids = await transcripts.replace_segments(transcript.id, result.segments)
            await transcripts.record_engine(transcript.id, result.engine, result.language)
            await transcripts.set_status(transcript.id, TranscriptStatus.DONE, None, duration_ms=result.duration_ms)
        count = await transcripts.segment_count(transcript.id)
        if count == 0:
            reason = (result.empty_reason if result else None) or "NO_SPEECH"
            await transcripts.set_status(transcript.id, TranscriptStatus.EMPTY, reason)
        elif result is None:
            await transcripts.set_status(transcript.id, TranscriptStatus.DONE, None)
        final_status = TranscriptStatus.EMPTY if count == 0 else TranscriptStatus.DONE
        if segment_ids:
            await publish(
                work.session,
                encounter_id=encounter.id,
                organization_id=encounter.organization_id,
                kind=EventKind.SEGMENT_ADDED,
                payload={
                    "transcriptId": str(transcript.id),
                    "segmentIds": [str(i) for i in segment_ids],
                    "final": True,
                },
            )
        await publish(
            work.session,
            encounter_id=encounter.id,
            organization_id=encounter.organization_id,
            kind=EventKind.TRANSCRIPT_COMPLETED,
            payload={"transcriptId": str(transcript.id), "status": final_status.value},
        )
        await move_to(work.session, encounter.id, encounter.organization_id, EncounterStatus.TRANSCRIBED)
        work.audit("create", "transcript", transcript.id)
        if count:
            await enqueue_extraction(work.session, transcript.id, encounter.id)


async def fail_transcript(runtime: PipelineRuntime, transcript_id: uuid.UUID, reason: str) -> None:
    access = runtime.access("transcriber")
    assert access.principal is not None
    async with unit_of_work(runtime.services.database, access) as work:
        transcripts = TranscriptRepository(work.session, access.principal)
        transcript = await transcripts.get(transcript_id, for_update=True)
        if transcript is None or transcript.status in FINAL_STATES:
            return
        await transcripts.set_status(transcript_id, TranscriptStatus.FAILED, reason)
        await publish(
            work.session,
            encounter_id=transcript.encounter_id,
            organization_id=transcript.organization_id,
            kind=EventKind.TRANSCRIPT_COMPLETED,
            payload={"transcriptId": str(transcript_id), "status": TranscriptStatus.FAILED.value, "reason": reason},
        )
        await move_to(work.session, transcript.encounter_id, transcript.organization_id, EncounterStatus.FAILED, reason)
        work.audit("update", "transcript", transcript_id)


async def _hotwords(runtime: PipelineRuntime, encounter: EncounterRecord) -> list[str]:
    """The patient's own medications first (whisper heeds the first hotwords most), then the common ones."""
    access = runtime.access("transcriber")
    assert access.principal is not None
    async with runtime.services.database.session() as session:
        own = await FindingRepository(session, access.principal).patient_medication_names(encounter.patient_id)
    if own:
        access.record("read", "findings", encounter.patient_id, "allowed")
        await runtime.services.audit_writer.write(access.take_pending())
    common = await asyncio.to_thread(runtime.hotwords)
    return list(dict.fromkeys([*own, *common]))


async def _claim_recording(
    runtime: PipelineRuntime, recording_id: uuid.UUID
) -> tuple[RecordingRecord, TranscriptRecord, EncounterRecord] | None:
    access = runtime.access("transcriber")
    assert access.principal is not None
    async with unit_of_work(runtime.services.database, access) as work:
        recording = await RecordingRepository(work.session, access.principal).get(recording_id)
        if recording is None:
            return None
        encounter = await EncounterRepository(work.session, access.principal).get(recording.encounter_id)
        assert encounter is not None
        transcripts = TranscriptRepository(work.session, access.principal)
        transcript = await transcripts.for_recording(recording.id, for_update=True)
        if transcript is not None and transcript.status in FINAL_STATES:
            return None
        if transcript is None:
            transcript = await transcripts.create(
                encounter_id=encounter.id,
                organization_id=encounter.organization_id,
                recording_id=recording.id,
                live=False,
                status=TranscriptStatus.RUNNING,
            )
        else:
            await transcripts.set_status(transcript.id, TranscriptStatus.RUNNING)
        await move_to(work.session, encounter.id, encounter.organization_id, EncounterStatus.TRANSCRIBING)
        work.audit("read", "recording", recording.id)
    return recording, transcript, encounter


async def transcribe_recording(runtime: PipelineRuntime, recording_id: uuid.UUID) -> None:
    claimed = await _claim_recording(runtime, recording_id)
    if claimed is None:
        return
    recording, transcript, encounter = claimed
    settings = runtime.services.settings
    with private_tempfile(settings.home_path("tmp"), suffix=".audio") as path:
        try:
            await runtime.services.store.copy_to_file(recording.storage_key, recording.wrapped_key, path)
        except DecryptionError:
            await fail_transcript(runtime, transcript.id, "AUDIO_UNREADABLE")
            return
        engine = await asyncio.to_thread(runtime.speech_engine)
        hotwords = await _hotwords(runtime, encounter)
        try:
            result = await asyncio.to_thread(
                engine.transcribe,
                path,
                hotwords=hotwords,
                channel_speakers=channel_speakers(recording),
                max_duration_seconds=settings.api.max_recording_seconds,
            )
        except AudioError as exc:  # permanent: retrying the same bytes cannot help
            await fail_transcript(runtime, transcript.id, f"AUDIO_{exc.code.value}")
            return
    await _complete(runtime, transcript, encounter, result)


# -- live recordings --------------------------------------------------------------------------------


async def _assemble_live_recording(
    runtime: PipelineRuntime, transcript: TranscriptRecord, encounter: EncounterRecord
) -> None:
    """Join the finished live recording's chunks into one sealed FLAC recording, linked to its transcript."""
    from transcription.assemble import concatenate_to_flac

    access = runtime.access("transcriber")
    assert access.principal is not None
    services = runtime.services
    async with services.database.session() as session:
        chunks = await ChunkRepository(session, access.principal).all(encounter.id)
    spool_dir = services.settings.home_path("tmp")
    with contextlib.ExitStack() as stack:
        paths = []
        for chunk in chunks:
            path = stack.enter_context(private_tempfile(spool_dir, suffix=".chunk"))
            await services.store.copy_to_file(chunk.storage_key, chunk.wrapped_key, path)
            paths.append(path)
        joined = stack.enter_context(private_tempfile(spool_dir, suffix=".flac"))
        info = await asyncio.to_thread(concatenate_to_flac, paths, joined)
        digest, size = await asyncio.to_thread(_sha256_and_size, joined)
        recording_id = new_id()
        storage_key = f"recordings/{encounter.organization_id}/{recording_id}"
        wrapped = await services.store.put(storage_key, read_file(joined))
    try:
        async with unit_of_work(services.database, access) as work:
            recording = await RecordingRepository(work.session, access.principal).create(
                recording_id=recording_id,
                encounter_id=encounter.id,
                organization_id=encounter.organization_id,
                storage_key=storage_key,
                wrapped_key=wrapped,
                sha256=digest,
                byte_size=size,
                content_type=info.content_type,
                duration_seconds=info.duration_seconds,
                channels=info.channels,
                sample_rate=info.sample_rate,
                idempotency_key=None,
                created_by=None,
                source="chunks",
            )
            await TranscriptRepository(work.session, access.principal).attach_recording(transcript.id, recording.id)
            work.audit("create", "recording", recording.id)
    except BaseException:
        await services.store.delete(storage_key)
        raise


def _sha256_and_size(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest(), path.stat().st_size


async def _transcribe_chunk_audio(
    runtime: PipelineRuntime, path: Path, channels: int, offset_ms: int, first_index: int
) -> tuple[list[Segment], Transcript]:
    from transcription.audio import decode_audio

    engine = await asyncio.to_thread(runtime.speech_engine)
    hotwords = await asyncio.to_thread(runtime.hotwords)
    tracks = await asyncio.to_thread(decode_audio, path, sample_rate=16_000, split_channels=channels == 2)
    # The engine decides whether two channels really are two speakers (not dual-mono, not one silent).
    result = await asyncio.to_thread(
        engine.transcribe_channels, tracks, offset_ms=offset_ms, hotwords=hotwords, first_index=first_index
    )
    return list(result.segments), result


async def transcribe_live(runtime: PipelineRuntime, encounter_id: uuid.UUID) -> None:
    """Transcribe every chunk that extends the contiguous stretch; finish the transcript when complete."""
    access = runtime.access("transcriber")
    assert access.principal is not None
    database, store, settings = runtime.services.database, runtime.services.store, runtime.services.settings
    while True:
        async with database.session() as session:
            transcripts = TranscriptRepository(session, access.principal)
            transcript = await transcripts.live_in_progress(encounter_id)
            if transcript is None:
                return
            chunk = await ChunkRepository(session, access.principal).get(encounter_id, transcript.chunks_done)
            encounter = await EncounterRepository(session, access.principal).get(encounter_id)
            first_index = await transcripts.segment_count(transcript.id)
        assert encounter is not None
        if chunk is None:
            if transcript.finished:
                if transcript.recording_id is None:
                    await _assemble_live_recording(runtime, transcript, encounter)
                await _complete(runtime, transcript, encounter, None)
            return
        with private_tempfile(settings.home_path("tmp"), suffix=".chunk") as path:
            try:
                await store.copy_to_file(chunk.storage_key, chunk.wrapped_key, path)
                segments, sample = await _transcribe_chunk_audio(
                    runtime, path, chunk.channels, transcript.duration_ms, first_index
                )
            except (AudioError, DecryptionError):
                await fail_transcript(runtime, transcript.id, "AUDIO_CORRUPT")
                return
        async with unit_of_work(database, access) as work:
            transcripts = TranscriptRepository(work.session, access.principal)
            current = await transcripts.get(transcript.id, for_update=True)
            if current is None or current.chunks_done != chunk.sequence or current.status in FINAL_STATES:
                continue  # someone else advanced it; look again
            segment_ids = await transcripts.append_segments(transcript.id, segments)
            end_ms = transcript.duration_ms + round(chunk.duration_seconds * 1000)
            await transcripts.set_status(
                transcript.id, TranscriptStatus.PARTIAL, None, chunks_done=chunk.sequence + 1, duration_ms=end_ms
            )
            if sample is not None and current.engine is None:
                await transcripts.record_engine(transcript.id, sample.engine, sample.language)
            work.audit("read", "recording_chunk", chunk.id)
            if segment_ids:
                work.audit("create", "transcript", transcript.id)
                await publish(
                    work.session,
                    encounter_id=encounter.id,
                    organization_id=encounter.organization_id,
                    kind=EventKind.SEGMENT_ADDED,
                    payload={
                        "transcriptId": str(transcript.id),
                        "segmentIds": [str(i) for i in segment_ids],
                        "final": False,
                    },
                )


async def fail_recording(runtime: PipelineRuntime, recording_id: uuid.UUID, reason: str) -> None:
    access = runtime.access("transcriber")
    assert access.principal is not None
    async with runtime.services.database.session() as session:
        transcript = await TranscriptRepository(session, access.principal).for_recording(recording_id)
    if transcript is not None:
        await fail_transcript(runtime, transcript.id, reason)


async def fail_live(runtime: PipelineRuntime, encounter_id: uuid.UUID, reason: str) -> None:
    access = runtime.access("transcriber")
    assert access.principal is not None
    async with runtime.services.database.session() as session:
        transcript = await TranscriptRepository(session, access.principal).live_in_progress(encounter_id)
    if transcript is not None:
        await fail_transcript(runtime, transcript.id, reason)
