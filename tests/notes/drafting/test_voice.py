"""Actor and status checks: a note speaks about the patient, and says start only for what was started."""

from __future__ import annotations

import pytest

from notes.drafting.claims import check_claims
from notes.drafting.extraction import Extractor
from notes.drafting.types import Draft, DrafterInfo, DraftSection, DraftSentence, NoteTemplate, SentenceSupport
from notes.drafting.voice import status_conflict, wrong_voice
from tests.notes.drafting import visits
from tests.notes.drafting.test_drafter_scripted import request_for


@pytest.mark.parametrize(
    ("text", "voice"),
    [
        ("I take metformin 500 mg twice a day.", "first_person"),
        ("My blood sugar has been high.", "first_person"),
        ("Your blood pressure is 138 over 86 today.", "second_person"),
        ("The patient takes metformin 500 mg twice a day.", None),
        ("We will recheck labs in three months.", None),  # ordinary note style
        ("History of type I diabetes, stage I hypertension.", None),  # Roman numerals
        ("Patient said: “I feel tired most afternoons.”", None),  # quoted speech
        ("Reports feeling tired; denies chest pain.", None),
    ],
)
def test_the_voice_of_a_note_sentence(text: str, voice: str | None) -> None:
    assert wrong_voice(text) == voice


def test_status_conflicts_need_a_clear_disagreement() -> None:
    assert status_conflict("started", ["taking"]) == "started_but_continued"
    assert status_conflict("started", ["taking", "started"]) is None  # restarted or changed: not judged
    assert status_conflict("stopped", ["taking"]) == "stopped_but_not_said"
    assert status_conflict("stopped", ["stopped"]) is None
    assert status_conflict("taking", ["started"]) is None  # vaguer claims are not judged
    assert status_conflict("started", []) is None


TURNS = [
    ("clinician", "Are you still taking lisinopril ten milligrams every morning?"),
    ("patient", "Yes, I take my lisinopril every morning."),
    ("clinician", "Let's start atorvastatin twenty milligrams at night."),
]


def _checked(extractor: Extractor, soap: NoteTemplate, *texts: str) -> list[SentenceSupport]:
    request = request_for(visits.segments(TURNS), extractor, soap)
    ids = tuple(s.id for s in request.segments)
    sentences = tuple(DraftSentence(text=t, origin="SAID_TODAY", segment_ids=ids) for t in texts)
    draft = Draft(
        sections=(DraftSection(kind="PLAN", title="Plan", sentences=sentences),),
        drafter=DrafterInfo(kind="LLM", model="scripted", prompt_version="test"),
        input_digest="x",
    )
    report = check_claims(draft, request.findings, request.segments, extractor)
    return [c.support for c in report.sentences]


def test_copied_first_person_and_a_continued_drug_started_are_flagged(extractor: Extractor, soap: NoteTemplate) -> None:
    assert _checked(
        extractor,
        soap,
        "I take lisinopril every morning.",
        "Start lisinopril 10 mg every morning.",
        "Continue lisinopril 10 mg every morning.",
        "Start atorvastatin 20 mg at night.",
    ) == [
        SentenceSupport.WRONG_ACTOR,
        SentenceSupport.WRONG_STATUS,
        SentenceSupport.SUPPORTED,
        SentenceSupport.SUPPORTED,
    ]
