"""The extraction job on a stored transcript: findings with evidence, replaced (not added to) on re-run."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from authz.principal import Principal
from notes.bootstrap import Services
from notes.encounters.repository import EncounterRepository
from notes.findings.models import Finding
from notes.pipeline.extract import audio_span, extract_findings
from notes.pipeline.runtime import PipelineRuntime
from notes.transcripts.records import SegmentRecord, WordRecord
from notes.transcripts.repository import TranscriptRepository
from notes.transcripts.status import TranscriptStatus
from tests.api.helpers import create_encounter, create_patient
from tests.conftest import Api
from transcription.types import Segment, Word

LEE = "dr.lee@demo.test"
SAID = [
    ("clinician", "Are you still taking metformin five hundred milligrams twice a day?"),
    ("patient", "Yes. And no chest pain at all."),
    ("patient", "My mother had breast cancer."),
]


def _segment(index: int, speaker: str, text: str) -> Segment:
    words, start = [], index * 5_000
    for n, token in enumerate(text.split()):
        words.append(Word(" " + token, start + n * 300, start + n * 300 + 250, 0.9))
    return Segment(index, start, start + 300 * len(words), speaker, text, 0.9, tuple(words))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def runtime(services: Services) -> PipelineRuntime:
    return PipelineRuntime(services)


async def _transcribed_encounter(api: Api, services: Services) -> tuple[uuid.UUID, uuid.UUID]:
    patient = await create_patient(api, as_=LEE)
    encounter_id = uuid.UUID((await create_encounter(api, patient["id"], as_=LEE))["id"])
    transcriber = Principal.service("transcriber", "transcriber")
    async with services.database.transaction() as session:
        encounter = await EncounterRepository(session, transcriber).get(encounter_id)
        assert encounter is not None
        transcripts = TranscriptRepository(session, transcriber)
        transcript = await transcripts.create(
            encounter_id=encounter.id,
            organization_id=encounter.organization_id,
            recording_id=None,
            live=False,
            status=TranscriptStatus.DONE,
        )
        await transcripts.append_segments(transcript.id, [_segment(i, s, t) for i, (s, t) in enumerate(SAID)])
    return encounter_id, transcript.id


async def test_findings_carry_evidence_and_a_rerun_replaces_them(
    api: Api, services: Services, runtime: PipelineRuntime
) -> None:
    encounter_id, transcript_id = await _transcribed_encounter(api, services)
    await extract_findings(runtime, transcript_id)
    async with services.database.session() as session:
        first = (await session.scalars(select(Finding).where(Finding.encounter_id == encounter_id))).all()
    metformin = next(f for f in first if f.kind == "medication" and f.name == "metformin")
    assert (metformin.dose, metformin.unit, metformin.frequency) == ("500", "mg", "twice a day")
    assert metformin.speaker == "clinician"
    assert 0 <= metformin.start_ms < metformin.end_ms <= 5_000 and metformin.ruleset_version
    chest = next(f for f in first if f.kind == "problem" and "chest" in f.text.lower())
    assert chest.negated and chest.speaker == "patient"
    cancer = next(f for f in first if f.kind == "problem" and "cancer" in f.text.lower())
    assert cancer.family

    await extract_findings(runtime, transcript_id)  # the same job again
    async with services.database.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Finding).where(Finding.encounter_id == encounter_id)
        )
    assert count == len(first)


def test_evidence_times_come_from_the_words_said() -> None:
    words = (
        WordRecord(" take", 1000, 1200, 0.9),
        WordRecord(" metformin", 1300, 1800, 0.9),
        WordRecord(" daily", 1900, 2300, 0.9),
    )
    segment = SegmentRecord(uuid.uuid4(), uuid.uuid4(), 0, 1000, 2300, "clinician", "Take metformin daily", 0.9, words)
    assert audio_span(segment, 5, 14) == (1300, 1800)
    assert audio_span(segment, 100, 120) == (1000, 2300)  # nothing overlaps: the segment's bounds
