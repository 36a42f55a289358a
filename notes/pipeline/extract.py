"""Extraction step: transcript segments → clinical NLP → findings with evidence (segment, characters,
audio time, speaker). Re-running replaces the encounter's findings in one transaction."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from nlp.types import Evidence, Findings, MedicationFinding, Passage, ProblemFinding
from notes.access import unit_of_work
from notes.encounters.repository import EncounterRepository
from notes.encounters.status import EncounterStatus
from notes.encounters.transitions import move_to
from notes.events.kinds import EventKind
from notes.events.publisher import publish
from notes.findings.repository import FindingRepository
from notes.pipeline.queue import enqueue_drafting
from notes.pipeline.runtime import PipelineRuntime
from notes.transcripts.records import SegmentRecord
from notes.transcripts.repository import TranscriptRepository
from notes.transcripts.status import TranscriptStatus


def passages_of(segments: list[SegmentRecord]) -> list[Passage]:
    return [Passage(id=str(s.id), text=s.text, speaker=s.speaker) for s in segments]


def audio_span(segment: SegmentRecord, start_char: int, end_char: int) -> tuple[int, int]:
    """The audio time of a character span, from the words it overlaps (the segment's bounds if none)."""
    position, start_ms, end_ms = 0, None, None
    for word in segment.words:
        token = word.text.strip()
        if not token:
            continue
        found = segment.text.find(token, position)
        if found < 0:
            continue
        position = found + len(token)
        if found < end_char and position > start_char:
            start_ms = word.start_ms if start_ms is None else start_ms
            end_ms = word.end_ms
    if start_ms is None or end_ms is None:
        return segment.start_ms, segment.end_ms
    return start_ms, end_ms


def _evidence(evidence: Evidence, segments: dict[str, SegmentRecord]) -> dict[str, Any]:
    segment = segments[evidence.passage_id]
    start_ms, end_ms = audio_span(segment, evidence.start_char, evidence.end_char)
    return {
        "segment_id": segment.id,
        "start_char": evidence.start_char,
        "end_char": evidence.end_char,
        "start_ms": start_ms,
        "end_ms": end_ms,
        "speaker": segment.speaker,
    }


def finding_rows(
    findings: Findings, segments: dict[str, SegmentRecord], transcript_id: uuid.UUID
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    common = {"transcript_id": transcript_id, "ruleset_version": findings.ruleset_version}
    for position, problem in enumerate(findings.problems):
        rows.append(common | _problem(problem) | _evidence(problem.evidence, segments) | {"position": position})
    for position, medication in enumerate(findings.medications):
        rows.append(
            common | _medication(medication) | _evidence(medication.evidence, segments) | {"position": position}
        )
    return rows


def _code(finding: ProblemFinding | MedicationFinding) -> dict[str, Any]:
    code = finding.code
    return {
        "code_system": code.system if code else None,
        "code": code.code if code else None,
        "code_display": code.display[:300] if code else None,
    }


def _problem(problem: ProblemFinding) -> dict[str, Any]:
    return {
        "kind": "problem",
        "text": problem.text,
        "name": (problem.code.display[:200] if problem.code else None),
        "negated": problem.negated,
        "historical": problem.historical,
        "family": problem.family,
        "hypothetical": problem.hypothetical,
        "uncertain": problem.uncertain,
        "asked": problem.asked,
    } | _code(problem)


def _medication(medication: MedicationFinding) -> dict[str, Any]:
    return {
        "kind": "medication",
        "text": medication.text,
        "name": medication.name[:200],
        "negated": medication.negated,
        "dose": medication.dose,
        "unit": medication.unit,
        "route": medication.route,
        "frequency": medication.frequency,
        "duration": medication.duration,
        "status": medication.status,
    } | _code(medication)


async def extract_findings(runtime: PipelineRuntime, transcript_id: uuid.UUID) -> None:
    access = runtime.access("extractor")
    assert access.principal is not None
    database = runtime.services.database
    async with unit_of_work(database, access) as work:
        transcripts = TranscriptRepository(work.session, access.principal)
        transcript = await transcripts.get(transcript_id)
        if transcript is None or transcript.status is not TranscriptStatus.DONE:
            return
        segments = await transcripts.all_segments(transcript.id)
        await move_to(work.session, transcript.encounter_id, transcript.organization_id, EncounterStatus.EXTRACTING)
        work.audit("read", "transcript", transcript.id)
    engine = await asyncio.to_thread(runtime.nlp_engine)
    findings = await asyncio.to_thread(engine.extract, passages_of(segments))
    rows = finding_rows(findings, {str(s.id): s for s in segments}, transcript.id)
    async with unit_of_work(database, access) as work:
        latest = await TranscriptRepository(work.session, access.principal).latest_for_encounters(
            [transcript.encounter_id]
        )
        if latest.get(transcript.encounter_id, transcript).id != transcript.id:
            return  # a newer transcript replaced this one while we worked; its own job extracts it
        encounter = await EncounterRepository(work.session, access.principal).get(
            transcript.encounter_id, for_update=True
        )
        assert encounter is not None
        await FindingRepository(work.session, access.principal).replace_for_encounter(
            encounter.id, encounter.organization_id, rows
        )
        await publish(
            work.session,
            encounter_id=encounter.id,
            organization_id=encounter.organization_id,
            kind=EventKind.FINDINGS_UPDATED,
            payload={"problems": len(findings.problems), "medications": len(findings.medications)},
        )
        await move_to(work.session, encounter.id, encounter.organization_id, EncounterStatus.EXTRACTED)
        work.audit("create", "findings", encounter.id)
        await enqueue_drafting(work.session, encounter.id)


async def fail_extraction(runtime: PipelineRuntime, transcript_id: uuid.UUID, reason: str) -> None:
    """The transcript stands; the encounter says why nothing followed it."""
    access = runtime.access("extractor")
    assert access.principal is not None
    async with unit_of_work(runtime.services.database, access) as work:
        transcript = await TranscriptRepository(work.session, access.principal).get(transcript_id)
        if transcript is not None:
            await move_to(
                work.session, transcript.encounter_id, transcript.organization_id, EncounterStatus.FAILED, reason
            )
