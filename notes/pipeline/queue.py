"""Which job follows which change. Jobs carry ids only; the per-encounter lock keeps one step at a time."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import enqueue

TRANSCRIBE_RECORDING = "transcribe_recording"
TRANSCRIBE_LIVE = "transcribe_live"
EXTRACT_FINDINGS = "extract_findings"
DRAFT_NOTE = "draft_note"


def _lock(encounter_id: uuid.UUID) -> str:
    return f"encounter:{encounter_id}"


async def enqueue_transcription(session: AsyncSession, recording_id: uuid.UUID, encounter_id: uuid.UUID) -> None:
    await enqueue(
        session,
        TRANSCRIBE_RECORDING,
        queue="transcription",
        args={"recording_id": str(recording_id)},
        lock=_lock(encounter_id),
    )


async def enqueue_live_transcription(session: AsyncSession, encounter_id: uuid.UUID) -> None:
    # One waiting job per encounter is enough: it transcribes every contiguous chunk it finds.
    await enqueue(
        session,
        TRANSCRIBE_LIVE,
        queue="transcription",
        args={"encounter_id": str(encounter_id)},
        lock=_lock(encounter_id),
        queueing_lock=f"live:{encounter_id}",
    )


async def enqueue_drafting(
    session: AsyncSession,
    encounter_id: uuid.UUID,
    *,
    sections: list[str] | None = None,
    base_version: int | None = None,
) -> None:
    """Draft the whole note (after extraction), or regenerate `sections` on top of `base_version`."""
    await enqueue(
        session,
        DRAFT_NOTE,
        queue="drafting",
        args={"encounter_id": str(encounter_id), "sections": sections, "base_version": base_version},
        lock=_lock(encounter_id),
    )


async def enqueue_extraction(session: AsyncSession, transcript_id: uuid.UUID, encounter_id: uuid.UUID) -> None:
    await enqueue(
        session, EXTRACT_FINDINGS, queue="nlp", args={"transcript_id": str(transcript_id)}, lock=_lock(encounter_id)
    )
