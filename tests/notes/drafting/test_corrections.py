"""Corrections from findings: after repairs fail, a sentence that asserts a denied problem or gets one drug's
dose wrong is restated from what was said, visibly (ARRANGED, the model's wording kept); a sentence about
several things, or one the NLP engine's weaker side would have to decide, is left with its label."""

from __future__ import annotations

from notes.drafting.extraction import Extractor
from notes.drafting.finalize import FinalizeOptions
from notes.drafting.types import ClaimReport, Draft, DraftSentence, NoteTemplate, SentenceSupport
from tests.notes.drafting import visits
from tests.notes.drafting.scripted_server import ScriptedOpenAI, by_section
from tests.notes.drafting.test_finalize import (
    draft_and_finalize,
    labelled,
    repair_answer,
    request_for,
    with_repairs,
)

NO_REPAIR = repair_answer("")  # the model finds nothing to write: the repair fails


async def finalize_unrepaired(
    scripted: ScriptedOpenAI,
    extractor: Extractor,
    soap: NoteTemplate,
    script: dict[str, list[tuple[str, list[str]]]],
    options: FinalizeOptions | None = None,
) -> tuple[Draft, ClaimReport]:
    """The model drafts `script` (section -> sentences and the lines they cite) and fails every repair."""
    scripted.responder = with_repairs(by_section(script), NO_REPAIR)
    request = request_for(visits.segments(), extractor, soap)
    return await draft_and_finalize(scripted, request, extractor, options=options)


def arranged(draft: Draft) -> list[DraftSentence]:
    return [x for s in draft.sections for x in s.sentences if x.provenance == "ARRANGED" and x.original_text]


async def test_a_denied_symptom_written_as_present_is_restated_as_denied(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    script = {"SUBJECTIVE": [("Reports chest pain.", ["S:cough"])]}
    draft, report = await finalize_unrepaired(scripted, extractor, soap, script)
    (corrected,) = arranged(draft)
    assert corrected.text == "Denies chest pain."
    assert corrected.original_text == "Reports chest pain."
    assert corrected.segment_ids == ("seg3",) and corrected.finding_ids  # where "No chest pain." was said
    assert labelled(draft, report)["Denies chest pain."] == ("SUBJECTIVE", SentenceSupport.SUPPORTED)
    assert (draft.repair_attempts, draft.repaired_sentences, draft.corrected_sentences) == (1, 0, 1)


async def test_several_denied_symptoms_are_restated_together(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    script = {"ASSESSMENT": [("The patient is experiencing chest pain and fever.", ["S:cough"])]}
    draft, report = await finalize_unrepaired(scripted, extractor, soap, script)
    (corrected,) = arranged(draft)
    assert corrected.text == "Denies chest pain and fever."
    assert labelled(draft, report)[corrected.text] == ("ASSESSMENT", SentenceSupport.SUPPORTED)


async def test_a_wrong_dose_is_restated_from_the_drug_findings(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    script = {"PLAN": [("Continue lisinopril 20 mg once a day.", ["S:lisinopril"])]}
    draft, report = await finalize_unrepaired(scripted, extractor, soap, script)
    (corrected,) = arranged(draft)
    assert "lisinopril 10 mg" in corrected.text and "20" not in corrected.text
    assert corrected.original_text == "Continue lisinopril 20 mg once a day."
    assert labelled(draft, report)[corrected.text] == ("PLAN", SentenceSupport.SUPPORTED)
    assert draft.corrected_sentences == 1
    assert sum("lisinopril" in x.text for s in draft.sections for x in s.sentences) == 1  # not arranged twice


async def test_sentences_about_several_things_or_affirmed_findings_keep_their_labels(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    script = {
        # cough is true, chest pain denied: restating would lose the cough
        "SUBJECTIVE": [("Reports cough and chest pain.", ["S:cough"])],
        # the transcript affirms the cough: "Reports cough" would rest on the engine's weaker side
        "ASSESSMENT": [("Denies cough.", ["S:cough"])],
    }
    draft, report = await finalize_unrepaired(scripted, extractor, soap, script)
    labels = labelled(draft, report)
    assert labels["Reports cough and chest pain."][1] is SentenceSupport.CONTRADICTED
    assert labels["Denies cough."][1] is SentenceSupport.CONTRADICTED
    assert arranged(draft) == [] and draft.corrected_sentences == 0


async def test_corrections_can_be_turned_off(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    script = {"SUBJECTIVE": [("Reports chest pain.", ["S:cough"])]}
    options = FinalizeOptions(correct_from_findings=False)
    draft, report = await finalize_unrepaired(scripted, extractor, soap, script, options)
    assert labelled(draft, report)["Reports chest pain."][1] is SentenceSupport.CONTRADICTED
    assert draft.corrected_sentences == 0
