"""The grounding pass after drafting (`finalize_draft`): repairs of failing sentences and medications
arranged from findings, against a scripted OpenAI-protocol server and the real NLP engine."""

from __future__ import annotations

import json
import time
from typing import Any

from nlp.types import Passage
from notes.drafting.concepts import mark_allergies
from notes.drafting.deterministic import DeterministicDrafter
from notes.drafting.drafter import FallbackDrafter, LlmDrafter
from notes.drafting.extraction import Extractor, findings_to_sources
from notes.drafting.finalize import (
    REPAIR_SYSTEM_PROMPT,
    FinalizeOptions,
    cautions,
    finalize_draft,
    missing_medications,
    repair_client,
    topic_of,
)
from notes.drafting.llm import LlmClient, LlmSettings
from notes.drafting.types import (
    ClaimReport,
    Draft,
    DraftRequest,
    NoteTemplate,
    SentenceSupport,
    SourceFinding,
    SourceSegment,
)
from tests.notes.drafting import visits
from tests.notes.drafting.scripted_server import Reply, Responder, ScriptedOpenAI, by_section, user_prompt

MEDS_VISIT = [
    ("doctor", "Are you still taking lisinopril 10 mg once a day?"),
    ("patient", "Yes, every morning. I'm allergic to penicillin and I stopped taking aspirin years ago."),
    ("doctor", "Any chest pain?"),
    ("patient", "No chest pain."),
    ("doctor", "Your cholesterol is high. I will start atorvastatin 20 mg at night. And you are allergic to"),
    ("doctor", "codeine and morphine, right?"),
    ("patient", "Right. Do I still need the flu vaccine?"),
    ("doctor", "Yes. For the sinus infection we will treat you with cephalexin or,"),
    ("doctor", "I'm sorry, amoxicillin 500 mg three times a day."),
]


# Repairs alone: the corrections from findings would otherwise restate the sentences these tests leave failing.
REPAIRS_ONLY = FinalizeOptions(correct_from_findings=False)


def request_for(segments: tuple[SourceSegment, ...], extractor: Extractor, template: NoteTemplate) -> DraftRequest:
    found = extractor.extract([Passage(s.id, s.text, s.speaker) for s in segments])
    return DraftRequest(segments=segments, findings=findings_to_sources(found), prior_notes=(), template=template)


def is_repair(body: dict[str, Any]) -> bool:
    return bool(body["messages"][0]["content"] == REPAIR_SYSTEM_PROMPT)


def with_repairs(sections: Responder, repair: Responder) -> Responder:
    return lambda body: repair(body) if is_repair(body) else sections(body)


def repair_answer(text: str, *line_refs: str) -> Responder:
    """Answers a repair request with `text`, citing the lines (L…) that contain each snippet."""

    def respond(body: dict[str, Any]) -> Reply:
        prompt = user_prompt(body)
        ids = []
        for ref in line_refs:
            for line in prompt.splitlines():
                if line.startswith('{"id": "L') and ref.lower() in json.loads(line)["text"].lower():
                    ids.append(json.loads(line)["id"])
                    break
        return Reply(content=json.dumps({"text": text, "evidence": ids}))

    return respond


async def draft_and_finalize(
    server: ScriptedOpenAI,
    request: DraftRequest,
    extractor: Extractor,
    *,
    started_at: float | None = None,
    options: FinalizeOptions | None = None,
) -> tuple[Draft, ClaimReport]:
    settings = LlmSettings(base_url=server.base_url, model="scripted", max_retries=0)
    async with LlmClient(settings) as client:
        drafter = FallbackDrafter(LlmDrafter(client), DeterministicDrafter())
        draft = await drafter.draft(request)
        return await finalize_draft(
            draft, request, extractor, repair_client(drafter), started_at=started_at, options=options
        )


def labelled(draft: Draft, report: ClaimReport) -> dict[str, tuple[str, SentenceSupport]]:
    """sentence text -> (section kind, label)"""
    return {
        draft.section(c.section_kind).sentences[c.index].text: (c.section_kind, c.support) for c in report.sentences
    }


# ------------------------------------------------------------------------------------ medication completeness


async def test_medications_the_model_left_out_are_arranged_from_findings(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = by_section({"ASSESSMENT": [("High cholesterol.", ["S:cholesterol is high"])]})
    request = request_for(visits.segments(MEDS_VISIT), extractor, soap)
    draft, report = await draft_and_finalize(scripted, request, extractor)
    labels = labelled(draft, report)
    assert labels["Takes lisinopril 10 mg once a day."] == ("SUBJECTIVE", SentenceSupport.SUPPORTED)
    assert labels["Start atorvastatin 20 mg at night."] == ("PLAN", SentenceSupport.SUPPORTED)
    assert labels["Medication discussed: amoxicillin 500 mg three times a day."][1] is SentenceSupport.SUPPORTED
    text = " ".join(s.text for s in draft.sections).lower()
    # Allergies (said in the segment before, too), a past drug, a vaccine and a drug taken back: never listed.
    for never in ("penicillin", "codeine", "morphine", "aspirin", "vaccine", "cephalexin"):
        assert never not in text, never
    arranged = [x for s in draft.sections for x in s.sentences if x.provenance == "ARRANGED"]
    assert draft.arranged_sentences == len(arranged) == 3
    assert all(x.segment_ids and x.finding_ids and x.origin == "SAID_TODAY" for x in arranged)
    assert draft.drafter.kind == "LLM" and draft.repair_attempts == 0  # nothing failed, nothing to repair
    assert report.supported_share == 1.0
    assert not [o for o in report.omissions if o.kind == "medication" and not o.negated and o.display == "atorvastatin"]


async def test_a_drug_the_draft_mentions_is_not_repeated(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = by_section({"PLAN": [("Start atorvastatin 20 mg at night.", ["S:atorvastatin"])]})
    request = request_for(visits.segments(MEDS_VISIT), extractor, soap)
    draft, _ = await draft_and_finalize(scripted, request, extractor)
    texts = [x.text for s in draft.sections for x in s.sentences]
    assert sum("atorvastatin" in t for t in texts) == 1


async def test_the_deterministic_draft_is_completed_too(extractor: Extractor, soap: NoteTemplate) -> None:
    many = [("patient", f"I take {d} every day.") for d in ("metformin", "lisinopril", "aspirin", "omeprazole")]
    many += [("patient", "I also take atorvastatin and levothyroxine and sertraline in the morning.")]
    request = request_for(visits.segments(many), extractor, soap)
    draft = await DeterministicDrafter().draft(request)
    final, report = await finalize_draft(draft, request, extractor, None)
    text = " ".join(s.text for s in final.sections).lower()
    for drug in ("metformin", "lisinopril", "aspirin", "omeprazole", "atorvastatin", "levothyroxine", "sertraline"):
        assert drug in text, drug
    assert final.drafter.kind == "DETERMINISTIC"
    assert all(x.provenance == "ARRANGED" for s in final.sections for x in s.sentences)
    assert report.counts[SentenceSupport.SUPPORTED.value] == len(report.sentences)


def test_allergy_lists_cut_across_segments_are_allergies(extractor: Extractor) -> None:
    segments = visits.segments(MEDS_VISIT)
    findings = findings_to_sources(extractor.extract([Passage(s.id, s.text, s.speaker) for s in segments]))
    marked = {f.text: f.allergy for f in mark_allergies(findings, segments) if f.kind == "medication"}
    assert marked["codeine"] and marked["morphine"] and marked["penicillin"]
    assert not marked["lisinopril"] and not marked["atorvastatin"]


def test_missing_medication_lines_use_fixed_words() -> None:
    seg = SourceSegment("s1", 0, 1000, "doctor", "increase metformin to 1000 mg twice a day and stop norvasc")
    met = SourceFinding("m1", "medication", "metformin", "metformin", "s1", dose="1000", unit="mg",
                        frequency="twice a day", status="changed", start_char=9, end_char=18)  # fmt: skip
    norvasc = SourceFinding("m2", "medication", "norvasc", "amlodipine", "s1", status="stopped", start_char=52,
                            end_char=59)  # fmt: skip
    request = DraftRequest((seg,), (met, norvasc), (), visits_template())
    report = ClaimReport(sentences=(), omissions=(), injections=(), checker_version="x")
    assert missing_medications(request, report) == []  # nothing omitted: nothing to add
    from notes.drafting.types import Omission

    report = ClaimReport((), (Omission("m1", "medication", "metformin"), Omission("m2", "medication", "amlodipine")),
                         (), "x")  # fmt: skip
    lines = [m.sentence() for m in missing_medications(request, report)]
    assert lines == ["Change metformin to 1000 mg twice a day.", "Stop norvasc (amlodipine)."]


def visits_template() -> NoteTemplate:
    from notes.drafting.template import load_template

    return load_template("soap")


# ------------------------------------------------------------------------------------------------ repairs


async def test_a_contradicted_sentence_is_repaired_and_marked(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    sections = by_section({"SUBJECTIVE": [("Reports chest pain.", ["S:No chest pain"])]})
    scripted.responder = with_repairs(sections, repair_answer("Denies chest pain and fever.", "No chest pain"))
    draft, report = await draft_and_finalize(scripted, request_for(visits.segments(), extractor, soap), extractor)
    repaired = next(x for x in draft.section("SUBJECTIVE").sentences if x.provenance == "REPAIRED")
    assert repaired.text == "Denies chest pain and fever."
    assert repaired.original_text == "Reports chest pain."
    assert repaired.segment_ids == ("seg3",)
    assert labelled(draft, report)["Denies chest pain and fever."][1] is SentenceSupport.SUPPORTED
    assert (draft.repair_attempts, draft.repaired_sentences) == (1, 1)
    repair_request = next(b for b in scripted.requests if is_repair(b))
    prompt = user_prompt(repair_request)
    assert "Reports chest pain" not in prompt  # the failed wording is not shown (a small model copies it)
    assert "does NOT have chest pain" in prompt
    assert repair_request["response_format"]["json_schema"]["name"] == "repair"


async def test_a_rewrite_that_fails_the_checks_leaves_the_sentence_and_its_label(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    sections = by_section({"PLAN": [("Continue lisinopril 20 mg once a day.", ["S:lisinopril"])]})
    scripted.responder = with_repairs(sections, repair_answer("Continue lisinopril 40 mg daily.", "lisinopril"))
    request = request_for(visits.segments(), extractor, soap)
    draft, report = await draft_and_finalize(scripted, request, extractor, options=REPAIRS_ONLY)
    assert labelled(draft, report)["Continue lisinopril 20 mg once a day."] == (
        "PLAN",
        SentenceSupport.DOSE_MISMATCH,
    )
    assert (draft.repair_attempts, draft.repaired_sentences) == (1, 0)
    assert all(x.provenance != "REPAIRED" for s in draft.sections for x in s.sentences)


async def test_rambling_or_prompt_talk_is_not_accepted(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    sections = by_section({"SUBJECTIVE": [("Reports chest pain.", ["S:No chest pain"])]})
    scripted.responder = with_repairs(sections, repair_answer("Denies chest pain as the lines say.", "No chest pain"))
    request = request_for(visits.segments(), extractor, soap)
    draft, report = await draft_and_finalize(scripted, request, extractor, options=REPAIRS_ONLY)
    assert labelled(draft, report)["Reports chest pain."][1] is SentenceSupport.CONTRADICTED
    assert draft.repaired_sentences == 0


async def test_no_repairs_past_the_time_budget(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    sections = by_section({"SUBJECTIVE": [("Reports chest pain.", ["S:No chest pain"])]})
    scripted.responder = with_repairs(sections, repair_answer("Denies chest pain.", "No chest pain"))
    request = request_for(visits.segments(), extractor, soap)
    # The visit is ~50 s long: a note that started drafting an hour ago has no time left for repairs.
    draft, report = await draft_and_finalize(
        scripted, request, extractor, started_at=time.monotonic() - 3600, options=REPAIRS_ONLY
    )
    assert draft.repair_attempts == 0 and not any(is_repair(b) for b in scripted.requests)
    assert labelled(draft, report)["Reports chest pain."][1] is SentenceSupport.CONTRADICTED


async def test_a_deterministic_draft_is_never_sent_for_repair(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    scripted.responder = lambda body: Reply(status=503)  # the model is down: the fallback drafts
    settings = LlmSettings(base_url=scripted.base_url, model="scripted", max_retries=0)
    request = request_for(visits.segments(), extractor, soap)
    async with LlmClient(settings) as client:
        drafter = FallbackDrafter(LlmDrafter(client), DeterministicDrafter())
        assert repair_client(drafter) is client
        draft = await drafter.draft(request)
        final, _ = await finalize_draft(draft, request, extractor, client)
    assert final.drafter.kind == "DETERMINISTIC" and final.repair_attempts == 0
    assert not any(is_repair(b) for b in scripted.requests)
    assert repair_client(DeterministicDrafter()) is None


def test_cautions_and_topics_speak_plainly() -> None:
    said = SourceFinding("m1", "medication", "lisinopril", "lisinopril", "s1", dose="10", unit="mg")
    notes = cautions(
        ["asserted_but_denied:Vomiting, unspecified", "dose_mismatch:lisinopril", "number_not_in_evidence:90,140"],
        [said],
    )
    assert notes == [
        "The patient does NOT have vomiting.",
        "lisinopril: The dose said: 10 mg.",
        "Nobody said the number(s) 90, 140.",
    ]
    assert topic_of("The patient reports a blood pressure of 140/90.", []) == "reports a blood pressure of"
    assert topic_of("Order a hemoglobin A1C.", []) == "Order a hemoglobin A1C"
    assert topic_of("Denies fever.", ["fever"]) == "fever"


async def test_the_repair_prompt_quotes_the_visit_as_data(
    scripted: ScriptedOpenAI, extractor: Extractor, soap: NoteTemplate
) -> None:
    sections = by_section({"PLAN": [("Start oxycodone 80 mg twice a day.", ["S:albuterol"])]})
    scripted.responder = with_repairs(sections, repair_answer(""))
    segments = visits.segments_with_injection()
    draft, report = await draft_and_finalize(scripted, request_for(segments, extractor, soap), extractor)
    prompts = [user_prompt(b) for b in scripted.requests if is_repair(b)]
    assert prompts and all(visits.INJECTION not in p for p in prompts)  # withheld from repairs too
    assert labelled(draft, report)["Start oxycodone 80 mg twice a day."][1] is SentenceSupport.UNSUPPORTED
    assert draft.repaired_sentences == 0
