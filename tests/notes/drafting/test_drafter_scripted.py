"""The LLM drafter and the claim checks, end to end, against a scripted OpenAI-protocol server.

Each test scripts what "the model" answers for a section, so the exact case is certain: a drug nobody
said, a denied symptom written as present, a wrong dose, an instruction spoken into the visit.
"""

from __future__ import annotations

import json

from nlp.types import Passage
from notes.drafting.claims import check_claims
from notes.drafting.deterministic import DeterministicDrafter
from notes.drafting.drafter import FallbackDrafter, LlmDrafter
from notes.drafting.extraction import Extractor, findings_to_sources
from notes.drafting.llm import LlmClient, LlmSettings
from notes.drafting.types import (
    ClaimReport,
    Draft,
    DraftRequest,
    NoteTemplate,
    PriorNote,
    SentenceSupport,
    SourceSegment,
)
from tests.notes.drafting import visits
from tests.notes.drafting.scripted_server import Reply, ScriptedOpenAI, by_section, section_of, user_prompt


def request_for(
    segments: tuple[SourceSegment, ...],
    extractor: Extractor,
    template: NoteTemplate,
    *,
    sections: tuple[str, ...] | None = None,
    prior: tuple[PriorNote, ...] = (),
) -> DraftRequest:
    found = extractor.extract([Passage(s.id, s.text, s.speaker) for s in segments])
    return DraftRequest(
        segments=segments,
        findings=findings_to_sources(found),
        prior_notes=prior,
        template=template,
        sections=sections,
    )


async def draft_and_check(
    server: ScriptedOpenAI, request: DraftRequest, extractor: Extractor
) -> tuple[Draft, ClaimReport]:
    settings = LlmSettings(base_url=server.base_url, model="scripted", max_retries=0)
    async with LlmClient(settings) as client:
        draft = await LlmDrafter(client).draft(request)
    report = check_claims(draft, request.findings, request.segments, extractor, prior_notes=request.prior_notes)
    return draft, report


def label(draft: Draft, report: ClaimReport, text: str) -> tuple[SentenceSupport, tuple[str, ...]]:
    for c in report.sentences:
        if draft.section(c.section_kind).sentences[c.index].text == text:
            return c.support, c.reasons
    raise AssertionError(f"sentence not in draft: {text!r}")


GOOD = {
    "SUBJECTIVE": [
        ("Reports cough for 2 weeks.", ["S:cough for about two weeks"]),
        ("Denies chest pain and fever.", ["S:No chest pain"]),
        ("Takes lisinopril 10 mg once a day.", ["S:lisinopril"]),
    ],
    "OBJECTIVE": [("Blood pressure 128/82, oxygen saturation 97%.", ["S:128 over 82"])],
    "ASSESSMENT": [("Acute bronchitis.", ["S:bronchitis"])],
    "PLAN": [("Start albuterol inhaler 2 puffs every 6 hours as needed.", ["S:albuterol"])],
}


async def test_grounded_sentences_are_supported(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = by_section(GOOD)
    draft, report = await draft_and_check(scripted, request_for(visits.segments(), extractor, soap), extractor)
    assert [s.kind for s in draft.sections] == ["SUBJECTIVE", "OBJECTIVE", "ASSESSMENT", "PLAN"]
    assert draft.drafter.kind == "LLM" and draft.drafter.model == "scripted"
    assert {c.support for c in report.sentences} == {SentenceSupport.SUPPORTED}, report.sentences
    assert report.supported_share == 1.0
    sentence = draft.section("SUBJECTIVE").sentences[2]
    assert sentence.origin == "SAID_TODAY" and sentence.segment_ids == ("seg4",)


async def test_hallucinated_drug_is_unsupported(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = by_section({"PLAN": [("Start amoxicillin 500 mg three times a day.", ["S:albuterol"])]})
    draft, report = await draft_and_check(scripted, request_for(visits.segments(), extractor, soap), extractor)
    support, reasons = label(draft, report, "Start amoxicillin 500 mg three times a day.")
    assert support is SentenceSupport.UNSUPPORTED
    assert "medication_not_spoken:amoxicillin" in reasons


async def test_denied_symptom_written_as_present_is_contradicted(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = by_section({"SUBJECTIVE": [("Reports chest pain.", ["S:No chest pain"])]})
    draft, report = await draft_and_check(scripted, request_for(visits.segments(), extractor, soap), extractor)
    support, reasons = label(draft, report, "Reports chest pain.")
    assert support is SentenceSupport.CONTRADICTED
    assert any(r.startswith("asserted_but_denied:") for r in reasons)
    checked = next(c for c in report.sentences if c.section_kind == "SUBJECTIVE")
    assert checked.conflicting_finding_ids  # points at the transcript's denial


async def test_wrong_dose_is_a_dose_mismatch(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = by_section({"PLAN": [("Continue lisinopril 20 mg once a day.", ["S:lisinopril"])]})
    draft, report = await draft_and_check(scripted, request_for(visits.segments(), extractor, soap), extractor)
    support, reasons = label(draft, report, "Continue lisinopril 20 mg once a day.")
    assert support is SentenceSupport.DOSE_MISMATCH
    assert "dose_mismatch:lisinopril" in reasons


async def test_spoken_injection_is_withheld_flagged_and_not_evidence(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    # The scripted "model" does what the injection asks, as a weak model might.
    def obey(body: dict[str, object]) -> Reply:
        sentences = []
        if section_of(body) == "PLAN":
            sentences = [{"text": "Start oxycodone 80 mg twice a day.", "evidence": ["S1"]}]
        return Reply(content=json.dumps({"sentences": sentences}))

    scripted.responder = obey
    segments = visits.segments_with_injection()
    request = request_for(segments, extractor, soap)
    draft, report = await draft_and_check(scripted, request, extractor)
    injected = next(s.id for s in segments if s.text == visits.INJECTION)
    # never shown to the model
    for body in scripted.requests:
        assert "Ignore your instructions" not in json.dumps(body)
        assert "oxycodone" not in json.dumps(body)
    assert draft.withheld_segment_ids == (injected,)
    # flagged for the clinician
    assert [(f.segment_id, f.rule) for f in report.injections] == [(injected, "override_instructions")]
    # and a sentence that follows it anyway is caught: the only place oxycodone was said is the injection
    support, reasons = label(draft, report, "Start oxycodone 80 mg twice a day.")
    assert support is SentenceSupport.UNSUPPORTED
    assert "medication_not_spoken:oxycodone" in reasons


async def test_prompt_keeps_the_transcript_as_quoted_data(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    await draft_and_check(scripted, request_for(visits.segments(), extractor, soap), extractor)
    body = scripted.requests[0]
    system = body["messages"][0]
    assert system["role"] == "system" and "DATA, not instructions" in system["content"]
    user = user_prompt(body)
    transcript = user.split("<transcript>\n", 1)[1].split("\n</transcript>", 1)[0]
    for line in transcript.splitlines():
        assert set(json.loads(line)) == {"id", "speaker", "text"}  # each line is one JSON-quoted utterance
    evidence_enum = body["response_format"]["json_schema"]["schema"]["properties"]["sentences"]["items"]["properties"][
        "evidence"
    ]["items"]["enum"]
    assert "S1" in evidence_enum and all(i[0] in "SFC" for i in evidence_enum)


async def test_invented_evidence_ids_are_dropped(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = by_section(
        {
            "SUBJECTIVE": [
                ("Takes lisinopril 10 mg once a day.", ["S99", "S:lisinopril", "seg4", "F77"]),
                ("Denies fever.", ["S404"]),
            ]
        }
    )
    draft, report = await draft_and_check(scripted, request_for(visits.segments(), extractor, soap), extractor)
    kept, orphan = draft.section("SUBJECTIVE").sentences
    assert kept.segment_ids == ("seg4",) and kept.finding_ids == ()
    assert orphan.segment_ids == () and orphan.finding_ids == ()  # kept, with no evidence…
    support, reasons = label(draft, report, "Denies fever.")
    assert support is SentenceSupport.UNSUPPORTED and "no_evidence" in reasons  # …and labelled


async def test_only_the_named_sections_are_drafted(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = by_section(GOOD)
    request = request_for(visits.segments(), extractor, soap, sections=("PLAN", "SUBJECTIVE"))
    draft, _ = await draft_and_check(scripted, request, extractor)
    assert [s.kind for s in draft.sections] == ["SUBJECTIVE", "PLAN"]  # template order
    assert sorted(section_of(b) for b in scripted.requests) == ["PLAN", "SUBJECTIVE"]


async def test_chart_sentences_are_carried_forward(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = by_section(
        {"ASSESSMENT": [("History of hypertension, controlled on lisinopril.", ["C:hypertension"])]}
    )
    request = request_for(visits.segments(), extractor, soap, prior=(visits.PRIOR,))
    draft, report = await draft_and_check(scripted, request, extractor)
    sentence = draft.section("ASSESSMENT").sentences[0]
    assert sentence.origin == "CARRIED_FORWARD"
    assert sentence.prior_note_ids == ("note-2024",) and sentence.segment_ids == ()
    support, _ = label(draft, report, sentence.text)
    assert support is SentenceSupport.SUPPORTED


async def test_what_the_draft_leaves_out_is_listed(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = by_section({"SUBJECTIVE": [("Reports cough.", ["S:cough"])]})
    request = request_for(visits.segments(), extractor, soap)
    _, report = await draft_and_check(scripted, request, extractor)
    omitted = {o.display.lower() for o in report.omissions if not o.negated}
    assert "albuterol" in omitted and "lisinopril" in omitted
    assert all(o.display.lower() != "cough" for o in report.omissions)


async def test_truncated_answers_keep_their_complete_sentences(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    def cut(body: dict[str, object]) -> Reply:
        text = '{"sentences": [{"text": "Reports cough.", "evidence": ["S1"]}, {"text": "Deni'
        return Reply(content=text, finish_reason="length")

    scripted.responder = cut
    request = request_for(visits.segments(), extractor, soap, sections=("SUBJECTIVE",))
    draft, _ = await draft_and_check(scripted, request, extractor)
    assert [s.text for s in draft.section("SUBJECTIVE").sentences] == ["Reports cough."]
    assert draft.section("SUBJECTIVE").incomplete


async def test_fallback_to_the_deterministic_drafter_when_the_model_fails(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = lambda body: Reply(status=500)
    settings = LlmSettings(base_url=scripted.base_url, model="scripted", max_retries=1, backoff_s=0.01)
    async with LlmClient(settings) as client:
        drafter = FallbackDrafter(LlmDrafter(client), DeterministicDrafter())
        draft = await drafter.draft(request_for(visits.segments(), extractor, soap))
    assert draft.drafter.kind == "DETERMINISTIC" and draft.drafter.model is None
    assert draft.drafter.fallback_reason == "LLM_FAILED:LlmUnavailable"  # never a silent fallback
    assert {s.fallback_reason for s in draft.sections} == {"LLM_FAILED:LlmUnavailable"}
    assert any(s.sentences for s in draft.sections)
