"""The pipeline's job definitions. Each task takes ids only and delegates to an idempotent step.

Transient failures (database, storage) raise and are retried with backoff; after the last attempt
the step's subject is marked FAILED with a reason code, so no encounter is left stuck.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

import procrastinate
from procrastinate import JobContext, RetryStrategy

from notes.pipeline import queue as names
from notes.pipeline.runtime import PipelineRuntime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
RETRY = RetryStrategy(max_attempts=MAX_ATTEMPTS, exponential_wait=2)

blueprint = procrastinate.Blueprint()


def runtime_of(context: JobContext) -> PipelineRuntime:
    runtime: PipelineRuntime = context.additional_context["runtime"]
    return runtime


async def _run(
    context: JobContext, step: Callable[[], Awaitable[None]], on_final_failure: Callable[[], Awaitable[None]]
) -> None:
    try:
        await step()
    except Exception as exc:
        attempts = context.job.attempts + 1
        log.warning(
            "job %s (%s) failed, attempt %d/%d: %s",
            context.job.id,
            context.job.task_name,
            attempts,
            MAX_ATTEMPTS,
            type(exc).__name__,
        )
        if attempts >= MAX_ATTEMPTS:
            await on_final_failure()
            return
        raise


@blueprint.task(name=names.TRANSCRIBE_RECORDING, queue="transcription", pass_context=True, retry=RETRY)
async def transcribe_recording_task(context: JobContext, recording_id: str) -> None:
    from notes.pipeline.transcribe import fail_recording, transcribe_recording

    runtime = runtime_of(context)
    key = uuid.UUID(recording_id)
    await _run(
        context,
        lambda: transcribe_recording(runtime, key),
        lambda: fail_recording(runtime, key, "TRANSCRIPTION_ERROR"),
    )


@blueprint.task(name=names.EXTRACT_FINDINGS, queue="nlp", pass_context=True, retry=RETRY)
async def extract_findings_task(context: JobContext, transcript_id: str) -> None:
    from notes.pipeline.extract import extract_findings, fail_extraction

    runtime = runtime_of(context)
    key = uuid.UUID(transcript_id)
    await _run(
        context, lambda: extract_findings(runtime, key), lambda: fail_extraction(runtime, key, "EXTRACTION_ERROR")
    )


@blueprint.task(name=names.DRAFT_NOTE, queue="drafting", pass_context=True, retry=RETRY)
async def draft_note_task(
    context: JobContext, encounter_id: str, sections: list[str] | None = None, base_version: int | None = None
) -> None:
    from notes.pipeline.draft import draft_note, fail_drafting

    runtime = runtime_of(context)
    key = uuid.UUID(encounter_id)
    await _run(
        context,
        lambda: draft_note(runtime, key, sections=sections, base_version=base_version),
        lambda: fail_drafting(runtime, key, "DRAFTING_ERROR"),
    )


@blueprint.task(name=names.TRANSCRIBE_LIVE, queue="transcription", pass_context=True, retry=RETRY)
async def transcribe_live_task(context: JobContext, encounter_id: str) -> None:
    from notes.pipeline.transcribe import fail_live, transcribe_live

    runtime = runtime_of(context)
    key = uuid.UUID(encounter_id)
    await _run(context, lambda: transcribe_live(runtime, key), lambda: fail_live(runtime, key, "TRANSCRIPTION_ERROR"))
