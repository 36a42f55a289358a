"""The extraction job on a stored transcript: findings with evidence, replaced (not added to) on re-run."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from notes.bootstrap import Services
from notes.findings.models import Finding
from notes.pipeline.extract import audio_span, extract_findings
from notes.pipeline.runtime import PipelineRuntime
from notes.transcripts.records import SegmentRecord, WordRecord
from tests.conftest import Api
from tests.notes.transcripts import transcribed_encounter

LEE = "dr.lee@demo.test"
SAID = [
    ("clinician", "Are you still taking metformin five hundred milligrams twice a day?"),
    ("patient", "Yes. And no chest pain at all."),
    ("patient", "My mother had breast cancer."),
]


@pytest.fixture(scope="module")
def runtime(services: Services) -> PipelineRuntime:
    return PipelineRuntime(services)


async def test_findings_carry_evidence_and_a_rerun_replaces_them(
    api: Api, services: Services, runtime: PipelineRuntime
) -> None:
    encounter_id, transcript_id = await transcribed_encounter(api, services, SAID, clinician=LEE)
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
