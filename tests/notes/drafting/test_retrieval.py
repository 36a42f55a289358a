from __future__ import annotations

from datetime import UTC, datetime

from notes.drafting.retrieval import RetrievalBudget, retrieve
from notes.drafting.template import load_template
from notes.drafting.types import DraftRequest, PriorNote, SourceFinding
from tests.notes.drafting import visits


def test_each_section_gets_its_own_segments() -> None:
    soap = load_template("soap")
    request = DraftRequest(visits.segments(), (), (), soap)
    objective = retrieve(request, soap.section("OBJECTIVE"))
    plan = retrieve(request, soap.section("PLAN"))
    assert "seg6" in {s.id for s in objective.segments}  # the vitals
    assert "seg7" in {s.id for s in plan.segments}  # the prescription
    assert [s.id for s in objective.segments] == sorted((s.id for s in objective.segments), key=lambda x: int(x[3:]))


def test_a_short_answer_brings_its_question() -> None:
    soap = load_template("soap")
    request = DraftRequest(visits.segments(), (), (), soap)
    ids = {s.id for s in retrieve(request, soap.section("SUBJECTIVE")).segments}
    assert "seg3" in ids and "seg2" in ids  # "No chest pain." needs "Any chest pain or fever?"


def test_the_budget_caps_the_prompt() -> None:
    soap = load_template("soap")
    request = DraftRequest(visits.segments(), (), (), soap)
    context = retrieve(request, soap.section("SUBJECTIVE"), RetrievalBudget(segment_chars=120))
    assert sum(len(s.text) for s in context.segments) <= 120 * 1.2


def test_findings_are_merged_per_concept_and_questions_assert_nothing() -> None:
    soap = load_template("soap")
    asked = SourceFinding("f1", "problem", "chest pain", "Chest pain", "seg2", code="ICD-10-CM:R07.9",
                          start_char=4, end_char=14)  # fmt: skip
    denied = SourceFinding("f2", "problem", "chest pain", "Chest pain", "seg3", code="ICD-10-CM:R07.9",
                           negated=True, start_char=3, end_char=13)  # fmt: skip
    request = DraftRequest(visits.segments(), (asked, denied), (), soap)
    findings = retrieve(request, soap.section("SUBJECTIVE")).findings
    assert [f.id for f in findings] == ["f2"]  # "any chest pain?" is not a complaint; the denial stands


def test_chart_context_comes_from_prior_notes() -> None:
    soap = load_template("soap")
    older = PriorNote("old", datetime(2020, 1, 1, tzinfo=UTC), {"ASSESSMENT": "Gout."})
    request = DraftRequest(visits.segments(), (), (visits.PRIOR, older), soap)
    chart = retrieve(request, soap.section("ASSESSMENT")).chart
    assert chart and chart[0].prior_note_id == "note-2024"
    assert any("lisinopril" in c.text for c in chart)
