"""Text hygiene: letters of another script in an English note (a small model slips into Chinese).

The claim checks label such a sentence OTHER_SCRIPT (never SUPPORTED); the drafter asks once more and then
lets the deterministic drafter write that section, visibly; a repair in another script is never accepted.
Against the scripted OpenAI-protocol server and the real NLP engine.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from notes.drafting.claims import check_claims
from notes.drafting.deterministic import DeterministicDrafter
from notes.drafting.drafter import ENGLISH_ONLY, Drafter, FallbackDrafter, LlmDrafter
from notes.drafting.evaluation import run_notes_eval_async
from notes.drafting.extraction import Extractor
from notes.drafting.finalize import FinalizeOptions, finalize_draft, topic_of
from notes.drafting.llm import LlmClient, LlmSettings
from notes.drafting.script import other_script_count, other_script_letters
from notes.drafting.types import (
    ClaimReport,
    Draft,
    DrafterInfo,
    DraftRequest,
    DraftSection,
    DraftSentence,
    NoteTemplate,
    SentenceSupport,
)
from tests.notes.drafting import visits
from tests.notes.drafting.scripted_server import Reply, ScriptedOpenAI, by_section, section_of, user_prompt
from tests.notes.drafting.test_drafter_scripted import draft_and_check, label, request_for
from tests.notes.drafting.test_evaluation import STUB_SCORER
from tests.notes.drafting.test_evaluation import record as eval_record
from tests.notes.drafting.test_finalize import is_repair, repair_answer, with_repairs

CJK = "Reports cough 咳嗽 for 2 weeks."  # 咳嗽: "cough"
CLEAN = "Reports cough for 2 weeks."
LATIN = "Temp 38.5 °C, café-au-lait spots, naïve."


@pytest.mark.parametrize(
    ("text", "letters"),
    [
        (CJK, "咳嗽"),
        ("Denies Боль.", "Боль"),
        ("Takes metformin مرتين daily.", "مرتين"),
        ("ＢＰ 120/80.", "ＢＰ"),  # fullwidth Latin: typed in a CJK input method
        ("Reports ιστορικό of asthma.", "ιστορικό"),  # a Greek word
        (LATIN, ""),
        ("Continue β-blocker, α1 50 µg, μg ± 2, Ærø, Ñuñez; 5 mm×3 mm, 100%.", ""),  # lone Greek letters: symbols
    ],
)
def test_other_script_letters_are_counted_by_their_unicode_names(text: str, letters: str) -> None:
    assert "".join(other_script_letters(text)) == letters
    assert other_script_count(text) == len(letters)


# ------------------------------------------------------------------------------------------- claim checks


def _one_sentence_draft(text: str, segment_ids: tuple[str, ...], kind: str = "SUBJECTIVE") -> Draft:
    sentence = DraftSentence(text=text, origin="SAID_TODAY", segment_ids=segment_ids)
    return Draft(
        sections=(DraftSection(kind=kind, title=kind.title(), sentences=(sentence,)),),
        drafter=DrafterInfo(kind="LLM", model="scripted", prompt_version="test"),
        input_digest="x",
    )


def test_a_sentence_with_chinese_letters_is_other_script(extractor: Extractor, soap: NoteTemplate) -> None:
    request = request_for(visits.segments(), extractor, soap)
    for text, support, reasons in [
        (CLEAN, SentenceSupport.SUPPORTED, ()),  # the same claim in English checks
        (CJK, SentenceSupport.OTHER_SCRIPT, ("other_script:2",)),
    ]:
        report = check_claims(_one_sentence_draft(text, ("seg1",)), request.findings, request.segments, extractor)
        (checked,) = report.sentences
        assert (checked.support, checked.reasons) == (support, reasons), text
        assert report.counts[SentenceSupport.OTHER_SCRIPT.value] == (support is SentenceSupport.OTHER_SCRIPT)


def test_other_script_does_not_hide_a_contradiction(extractor: Extractor, soap: NoteTemplate) -> None:
    request = request_for(visits.segments(), extractor, soap)
    draft = _one_sentence_draft("Reports chest pain 很严重.", ("seg3",))
    (checked,) = check_claims(draft, request.findings, request.segments, extractor).sentences
    assert checked.support is SentenceSupport.CONTRADICTED
    assert "other_script:3" in checked.reasons


def test_latin_letters_with_diacritics_degrees_and_decimals_are_english(
    extractor: Extractor, soap: NoteTemplate
) -> None:
    segments = visits.segments(
        [("doctor", "Temp 38.5 °C today. I see café-au-lait spots on your back; you are naïve to treatment.")]
    )
    request = request_for(segments, extractor, soap)
    report = check_claims(_one_sentence_draft(LATIN, ("seg0",), "OBJECTIVE"), request.findings, segments, extractor)
    (checked,) = report.sentences
    assert checked.support is SentenceSupport.SUPPORTED, checked.reasons
    assert not any(r.startswith("other_script") for r in checked.reasons)


# ----------------------------------------------------------------------------------------------- drafter


def _subjective_answers(*answers: str) -> Any:
    """SUBJECTIVE gets `answers` in turn (the last one again after that); other sections say nothing."""
    seen: list[str] = []

    def respond(body: dict[str, Any]) -> Reply:
        if section_of(body) != "SUBJECTIVE":
            return Reply(content='{"sentences": []}')
        text = answers[min(len(seen), len(answers) - 1)]
        seen.append(text)
        evidence = [i for i in ("S1", "S2") if i in user_prompt(body)]
        return Reply(content=json.dumps({"sentences": [{"text": text, "evidence": evidence}]}))

    return respond


def _subjective_requests(server: ScriptedOpenAI) -> list[dict[str, Any]]:
    return [b for b in server.requests if section_of(b) == "SUBJECTIVE"]


async def test_other_script_twice_falls_back_to_the_deterministic_section_visibly(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = _subjective_answers(CJK)
    request = request_for(visits.segments(), extractor, soap)
    draft, report = await draft_and_check(scripted, request, extractor)
    first, retry = _subjective_requests(scripted)  # asked once more, and told why
    assert retry["messages"][:-1] == first["messages"]
    assert retry["messages"][-1] == {"role": "user", "content": ENGLISH_ONLY}
    section = draft.section("SUBJECTIVE")
    expected = (await DeterministicDrafter().draft(request)).section("SUBJECTIVE")
    assert section.sentences == expected.sentences and section.sentences
    assert section.fallback_reason == "LLM_OTHER_SCRIPT:2"
    assert all(s.provenance == "ARRANGED" for s in section.sentences)  # findings in fixed words, not AI prose
    assert draft.drafter.kind == "LLM" and draft.section("PLAN").fallback_reason is None
    assert not any(c.support is SentenceSupport.OTHER_SCRIPT for c in report.sentences)


async def test_a_clean_retry_is_kept(scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate) -> None:
    scripted.responder = _subjective_answers(CJK, CLEAN)
    draft, report = await draft_and_check(scripted, request_for(visits.segments(), extractor, soap), extractor)
    assert len(_subjective_requests(scripted)) == 2
    section = draft.section("SUBJECTIVE")
    assert [s.text for s in section.sentences] == [CLEAN] and section.fallback_reason is None
    assert section.sentences[0].provenance == "MODEL"
    assert label(draft, report, CLEAN)[0] is SentenceSupport.SUPPORTED


class _SilentDrafter:
    """A fallback with nothing to say for any section."""

    @property
    def info(self) -> DrafterInfo:
        return DrafterInfo(kind="DETERMINISTIC", model=None, prompt_version="silent")

    async def draft(self, request: DraftRequest) -> Draft:
        sections = tuple(
            DraftSection(kind=k, title=request.template.section(k).title, sentences=()) for k in request.section_kinds()
        )
        return Draft(sections=sections, drafter=self.info, input_digest="x")


async def test_without_a_fallback_section_the_sentence_stays_and_is_labelled(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = _subjective_answers(CJK)
    request = request_for(visits.segments(), extractor, soap)
    settings = LlmSettings(base_url=scripted.base_url, model="scripted", max_retries=0)
    async with LlmClient(settings) as client:
        draft = await LlmDrafter(client, section_fallback=_SilentDrafter()).draft(request)
    report = check_claims(draft, request.findings, request.segments, extractor)
    section = draft.section("SUBJECTIVE")
    assert [s.text for s in section.sentences] == [CJK] and section.fallback_reason is None  # never stripped
    assert len(_subjective_requests(scripted)) == 2
    assert label(draft, report, CJK) == (SentenceSupport.OTHER_SCRIPT, ("other_script:2",))


# ------------------------------------------------------------------------------------------------ repairs


# Repairs alone: no corrections from findings, no medications added to the one-sentence drafts.
REPAIRS_ONLY = FinalizeOptions(correct_from_findings=False, arrange_medications=False)


async def _finalize(
    server: ScriptedOpenAI, draft: Draft, request: DraftRequest, extractor: Extractor
) -> tuple[Draft, ClaimReport]:
    settings = LlmSettings(base_url=server.base_url, model="scripted", max_retries=0)
    async with LlmClient(settings) as client:
        return await finalize_draft(draft, request, extractor, client, options=REPAIRS_ONLY)


async def test_an_other_script_sentence_is_repaired_in_english(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = with_repairs(by_section({}), repair_answer(CLEAN, "cough for about two weeks"))
    request = request_for(visits.segments(), extractor, soap)
    draft, report = await _finalize(scripted, _one_sentence_draft(CJK, ("seg1",)), request, extractor)
    (sentence,) = draft.section("SUBJECTIVE").sentences
    assert (sentence.text, sentence.provenance, sentence.original_text) == (CLEAN, "REPAIRED", CJK)
    assert report.sentences[0].support is SentenceSupport.SUPPORTED
    (prompt,) = [user_prompt(b) for b in scripted.requests if is_repair(b)]
    assert other_script_count(prompt) == 0  # the foreign words are not shown again
    assert "Write in English, with Latin letters only." in prompt


def test_a_repair_topic_leaves_the_other_script_out() -> None:
    assert topic_of("Reports 咳嗽 since Monday.", []) == "Reports since Monday"


async def test_a_repair_in_another_script_is_refused(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    # Right in substance, and in English words but one: still not accepted.
    scripted.responder = with_repairs(by_section({}), repair_answer("Denies chest pain 胸痛.", "No chest pain"))
    request = request_for(visits.segments(), extractor, soap)
    wrong = _one_sentence_draft("Reports chest pain.", ("seg3",))
    draft, report = await _finalize(scripted, wrong, request, extractor)
    (sentence,) = draft.section("SUBJECTIVE").sentences
    assert (sentence.text, sentence.provenance) == ("Reports chest pain.", "MODEL")
    assert report.sentences[0].support is SentenceSupport.CONTRADICTED
    assert (draft.repair_attempts, draft.repaired_sentences) == (1, 0)


async def test_a_failed_retry_leaves_the_section_to_the_fallback(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    """A retry that cannot reach the model leaves the first answer to the section fallback."""
    calls: list[str] = []

    def respond(body: dict[str, Any]) -> Reply:
        if section_of(body) != "SUBJECTIVE":
            return Reply(content='{"sentences": []}')
        calls.append("x")
        if len(calls) > 1:
            return Reply(status=503)
        return Reply(content=json.dumps({"sentences": [{"text": CJK, "evidence": ["S1"]}]}))

    scripted.responder = respond
    request = request_for(visits.segments(), extractor, soap)
    settings = LlmSettings(base_url=scripted.base_url, model="scripted", max_retries=0)
    async with LlmClient(settings) as client:
        draft = await FallbackDrafter(LlmDrafter(client), DeterministicDrafter()).draft(request)
    assert draft.drafter.kind == "LLM" and len(calls) == 2
    assert draft.section("SUBJECTIVE").fallback_reason == "LLM_OTHER_SCRIPT:2"


# ------------------------------------------------------------------------------------------------- eval


class _ChineseDrafter:
    """A model draft with one Chinese word in SUBJECTIVE (no model behind it: nothing is repaired)."""

    @property
    def info(self) -> DrafterInfo:
        return DrafterInfo(kind="LLM", model="stub", prompt_version="stub")

    async def draft(self, request: DraftRequest) -> Draft:
        return replace(_one_sentence_draft(CJK, ("t1",)), drafter=self.info)


async def test_notes_eval_counts_other_script_letters(tmp_path: Path, extractor: Extractor) -> None:
    data = tmp_path / "dev.jsonl"
    data.write_text(json.dumps(eval_record()) + "\n")
    scorer = tmp_path / "score.py"
    scorer.write_text(STUB_SCORER)

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[Drafter]:
        yield _ChineseDrafter()

    out, details = io.StringIO(), io.StringIO()
    await run_notes_eval_async(
        data, drafter_factory=factory, extractor=extractor, scorer_path=scorer, out=out, details=details
    )
    assert "\nother_script_chars: 2\n" in out.getvalue()
    assert "\nother_script: 1\n" in out.getvalue()  # sentences so labelled
    result = json.loads(details.getvalue())["result"]
    assert (result["other_script_chars"], result["other_script"]) == (2, 1)
