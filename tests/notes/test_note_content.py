"""A note version's stored content keeps every sentence's provenance through JSON, and a clinician's
edit marks what they wrote as theirs while the AI's untouched sentences keep their labels."""

from __future__ import annotations

from notes.visitnotes.content import EvidenceRef, Section, Sentence, apply_edit, from_json, to_json
from notes.visitnotes.status import AuthorKind, Provenance, SentenceOrigin, Support


def _section() -> Section:
    return Section(
        "PLAN",
        "Plan",
        (
            Sentence(
                id="a",
                text="Continue lisinopril 10 mg daily.",
                origin=SentenceOrigin.SAID_TODAY,
                support=Support.SUPPORTED,
                authored_by=AuthorKind.AI,
                evidence=(EvidenceRef("seg-1", 0, 1200),),
                provenance=Provenance.REPAIRED,
                original_text="Continue lisinopril 20 mg daily.",
            ),
            Sentence(
                id="b",
                text="Takes metformin 500 mg twice a day.",
                origin=SentenceOrigin.SAID_TODAY,
                support=Support.SUPPORTED,
                authored_by=AuthorKind.AI,
                provenance=Provenance.ARRANGED,
            ),
        ),
    )


def test_provenance_and_first_wording_survive_storage() -> None:
    (restored,) = from_json(to_json([_section()]))
    assert restored == _section()


def test_content_stored_before_provenance_existed_reads_as_model_or_clinician() -> None:
    stored = to_json([_section()])
    for sentence in stored[0]["sentences"]:
        del sentence["provenance"], sentence["original_text"]
    stored[0]["sentences"][1]["authored_by"] = "CLINICIAN"
    (restored,) = from_json(stored)
    assert [s.provenance for s in restored.sentences] == [Provenance.MODEL, Provenance.CLINICIAN]


def test_an_edit_keeps_untouched_sentences_and_marks_new_words_as_the_clinicians() -> None:
    edited = apply_edit(_section(), "Continue lisinopril 10 mg daily. Recheck in two weeks.")
    kept, typed = edited.sentences
    assert kept == _section().sentences[0]
    assert typed.provenance is Provenance.CLINICIAN and typed.support is Support.NOT_CHECKED
