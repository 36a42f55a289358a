from __future__ import annotations

from nlp.types import Passage
from notes.drafting.claims import check_claims
from notes.drafting.deterministic import DeterministicDrafter
from notes.drafting.extraction import Extractor, findings_to_sources
from notes.drafting.types import DraftRequest, NoteTemplate, SentenceSupport
from tests.notes.drafting import visits


async def test_deterministic_draft_is_labelled_grounded_and_ignores_injections(
    extractor: Extractor, soap: NoteTemplate
) -> None:
    segments = visits.segments_with_injection()
    findings = findings_to_sources(extractor.extract([Passage(s.id, s.text, s.speaker) for s in segments]))
    draft = await DeterministicDrafter().draft(DraftRequest(segments, findings, (), soap))
    assert draft.drafter.kind == "DETERMINISTIC" and draft.drafter.model is None
    texts = [s.text for section in draft.sections for s in section.sentences]
    assert any("Denies" in t and "chest pain" in t for t in texts)
    assert any("lisinopril" in t and "10 mg" in t for t in texts)
    assert not any("oxycodone" in t.lower() for t in texts)
    injected = next(s.id for s in segments if s.text == visits.INJECTION)
    assert injected in draft.withheld_segment_ids
    assert all(s.segment_ids for section in draft.sections for s in section.sentences)
    report = check_claims(draft, findings, segments, extractor)
    assert {c.support for c in report.sentences} == {SentenceSupport.SUPPORTED}, report.sentences


async def test_same_inputs_same_digest(extractor: Extractor, soap: NoteTemplate) -> None:
    segments = visits.segments()
    findings = findings_to_sources(extractor.extract([Passage(s.id, s.text, s.speaker) for s in segments]))
    a = await DeterministicDrafter().draft(DraftRequest(segments, findings, (), soap))
    b = await DeterministicDrafter().draft(DraftRequest(segments, findings, (), soap))
    c = await DeterministicDrafter().draft(DraftRequest(segments[:-1], findings, (), soap))
    assert a == b and a.input_digest != c.input_digest
