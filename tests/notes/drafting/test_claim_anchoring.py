"""A true statement cited to the wrong line gets its evidence re-linked to the line that says it; a
statement no line supports (a number nobody said, words only asked about) stays UNSUPPORTED whatever the
model cited."""

from __future__ import annotations

from nlp.types import Passage
from notes.drafting.claims import check_claims
from notes.drafting.extraction import Extractor, findings_to_sources
from notes.drafting.types import (
    ClaimReport,
    Draft,
    DrafterInfo,
    DraftSection,
    DraftSentence,
    SentenceSupport,
    SourceSegment,
)

SAID = [
    ("clinician", "How has your stomach been since we last spoke?"),
    ("patient", "Better, the burning is mostly gone."),
    ("clinician", "Good. Your blood pressure today is one thirty two over eighty four."),
    ("patient", "That is better than last time."),
    ("clinician", "Please cut down on caffeine and alcohol, both irritate the stomach lining."),
    ("patient", "Okay, I can do that."),
    ("clinician", "We will see you back in three months to check on the reflux."),
    ("clinician", "Oh, and have you had any lab work done recently?"),
]
SEGMENTS = tuple(SourceSegment(f"s{i}", i * 4000, i * 4000 + 3500, who, text) for i, (who, text) in enumerate(SAID))


def check(extractor: Extractor, *sentences: tuple[str, str]) -> tuple[Draft, ClaimReport]:
    """`sentences`: (text, the one segment id the model cited)."""
    found = extractor.extract([Passage(s.id, s.text, s.speaker) for s in SEGMENTS])
    draft = Draft(
        sections=(
            DraftSection(
                "PLAN",
                "Plan",
                tuple(DraftSentence(text=t, origin="SAID_TODAY", segment_ids=(cited,)) for t, cited in sentences),
            ),
        ),
        drafter=DrafterInfo(kind="LLM", model="test", prompt_version="t"),
        input_digest="x",
    )
    return draft, check_claims(draft, findings_to_sources(found), SEGMENTS, extractor)


def test_a_true_sentence_cited_to_the_wrong_line_is_relinked(extractor: Extractor) -> None:
    _, report = check(
        extractor,
        ("Advised to cut down on caffeine and alcohol.", "s0"),
        ("Follow up in three months to check on the reflux.", "s1"),
    )
    caffeine, follow_up = report.sentences
    assert caffeine.support is SentenceSupport.SUPPORTED, caffeine.reasons
    assert "s4" in caffeine.evidence_segment_ids
    assert follow_up.support is SentenceSupport.SUPPORTED, follow_up.reasons
    assert "s6" in follow_up.evidence_segment_ids


def test_a_number_nobody_said_stays_unsupported_wherever_it_is_cited(extractor: Extractor) -> None:
    _, report = check(
        extractor,
        ("Blood pressure today is 150/95.", "s2"),
        ("Blood pressure today is 150/95.", "s5"),
        ("Blood pressure today is 132/84.", "s6"),
    )
    wrong_here, wrong_elsewhere, right = report.sentences
    for checked in (wrong_here, wrong_elsewhere):
        assert checked.support is SentenceSupport.UNSUPPORTED
        assert any(r.startswith("number_not_in_evidence") for r in checked.reasons)
    assert right.support is SentenceSupport.SUPPORTED and "s2" in right.evidence_segment_ids


def test_words_the_visit_never_contained_are_not_relinked(extractor: Extractor) -> None:
    _, report = check(extractor, ("Referred to dermatology for a skin biopsy of the mole.", "s4"))
    (checked,) = report.sentences
    assert checked.support is SentenceSupport.UNSUPPORTED


def test_a_question_is_not_evidence_for_a_statement(extractor: Extractor) -> None:
    _, report = check(extractor, ("Has not had any lab work done recently.", "s0"))
    (checked,) = report.sentences
    assert checked.support is SentenceSupport.UNSUPPORTED


def test_a_hedge_inside_the_sentence_covers_the_list_after_it(extractor: Extractor) -> None:
    said = [
        ("clinician", "Any body aches, vomiting or belly pain?"),
        ("patient", "Hard to say, I have not been feeling well."),
    ]
    segments = tuple(SourceSegment(f"h{i}", i * 4000, i * 4000 + 3500, w, t) for i, (w, t) in enumerate(said))
    found = extractor.extract([Passage(s.id, s.text, s.speaker) for s in segments])
    sentences = (
        # the engine's hedge window ends before the third item; the note's list is hedged as a whole
        "The patient has possible body aches, vomiting, and belly pain.",
        "Possible body aches and vomiting, but has belly pain.",
        "Has belly pain.",
    )
    draft = Draft(
        sections=(
            DraftSection("ASSESSMENT", "Assessment", tuple(DraftSentence(t, "SAID_TODAY", ("h0",)) for t in sentences)),
        ),
        drafter=DrafterInfo(kind="LLM", model="test", prompt_version="t"),
        input_digest="x",
    )
    hedged, turned, asserted = check_claims(draft, findings_to_sources(found), segments, extractor).sentences
    assert hedged.support is SentenceSupport.SUPPORTED, hedged.reasons
    for checked in (turned, asserted):  # only asked about: asserting it is unsupported
        assert checked.support is SentenceSupport.UNSUPPORTED, checked.reasons
        assert "asserted_but_uncertain:Unspecified abdominal pain" in checked.reasons
