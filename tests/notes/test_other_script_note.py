"""Other-script text in a stored note: the OTHER_SCRIPT label and a section's fallback reach the clinician
through GraphQL, survive storage and edits, and count towards the worklist's urgency."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from core.settings import LlmSettings
from notes.bootstrap import Services
from notes.pipeline.draft import draft_note
from notes.pipeline.extract import extract_findings
from notes.pipeline.runtime import PipelineRuntime
from notes.visitnotes.content import Section, Sentence, apply_edit, from_json, to_json, worklist_counts
from notes.visitnotes.status import AuthorKind, SentenceOrigin, Support
from tests.conftest import Api
from tests.notes.drafting.scripted_server import Reply, ScriptedOpenAI, prompt_id, section_of, serve
from tests.notes.transcripts import transcribed_encounter

LEE = "dr.lee@demo.test"
SAID = [
    ("clinician", "Do you have any chest pain?"),
    ("patient", "No, no chest pain at all."),
    ("clinician", "Keep taking lisinopril ten milligrams every morning."),
]
# Chinese in two sections: SUBJECTIVE has findings to fall back on, ASSESSMENT has none (no diagnosis said).
SCRIPT = {
    "SUBJECTIVE": ("Denies 胸痛.", "S:no chest pain"),
    "ASSESSMENT": ("No chest pain 今天.", "S:no chest pain"),
}
NOTE = """query($id: ID!) { encounter(id: $id) { note { unsupportedCount drafter { kind }
  sections { kind fallbackReason sentences { text support reasons provenance } } } } }"""


def _sentence(support: Support) -> Sentence:
    return Sentence(
        id=support.value,
        text=f"{support.value.lower()}.",
        origin=SentenceOrigin.SAID_TODAY,
        support=support,
        authored_by=AuthorKind.AI,
    )


def test_the_fallback_reason_survives_storage_and_edits() -> None:
    section = Section("SUBJECTIVE", "Subjective", (_sentence(Support.SUPPORTED),), "LLM_OTHER_SCRIPT:2")
    (restored,) = from_json(to_json([section]))
    assert restored == section
    assert apply_edit(section, "supported. Typed by the clinician.").fallback_reason == "LLM_OTHER_SCRIPT:2"
    stored = to_json([section])
    del stored[0]["fallback_reason"]  # content stored before the field existed
    assert from_json(stored)[0].fallback_reason is None


def test_other_script_counts_towards_the_worklist() -> None:
    sentences = tuple(_sentence(s) for s in Support)
    # unsupported, dose, other script, wrong actor, wrong status; contradicted
    assert worklist_counts([Section("PLAN", "Plan", sentences)]) == (5, 1)


def respond(body: dict[str, Any]) -> Reply:
    text, ref = SCRIPT.get(section_of(body), ("", ""))
    try:
        cited = [prompt_id(body, ref)] if text else []
    except AssertionError:  # retrieval did not offer that line to this section
        cited = []
    items = [{"text": text, "evidence": cited}] if cited else []
    return Reply(content=json.dumps({"sentences": items}))


@pytest.fixture
def endpoint() -> Iterator[ScriptedOpenAI]:
    yield from serve()


async def test_other_script_is_labelled_or_falls_back_visibly(
    api: Api, services: Services, endpoint: ScriptedOpenAI
) -> None:
    endpoint.responder = respond
    llm = LlmSettings(base_url=f"http://127.0.0.1:{endpoint.port}/v1", model="scripted-model", max_retries=0)
    runtime = PipelineRuntime(dataclasses.replace(services, settings=services.settings.model_copy(update={"llm": llm})))
    encounter_id, transcript_id = await transcribed_encounter(api, services, SAID, clinician=LEE)
    try:
        await extract_findings(runtime, transcript_id)
        await draft_note(runtime, encounter_id)
    finally:
        await runtime.aclose()

    note = (await api.gql(NOTE, {"id": str(encounter_id)}, as_=LEE))["data"]["encounter"]["note"]
    sections = {s["kind"]: s for s in note["sections"]}
    assert note["drafter"]["kind"] == "LLM"
    subjective = sections["SUBJECTIVE"]
    assert subjective["fallbackReason"] == "LLM_OTHER_SCRIPT:2"
    assert subjective["sentences"] and {s["provenance"] for s in subjective["sentences"]} == {"ARRANGED"}
    assert "Denies chest pain." in [s["text"] for s in subjective["sentences"]]
    (kept,) = sections["ASSESSMENT"]["sentences"]  # nothing to fall back on: kept, never stripped, and labelled
    assert sections["ASSESSMENT"]["fallbackReason"] is None
    assert (kept["text"], kept["support"], kept["provenance"]) == ("No chest pain 今天.", "OTHER_SCRIPT", "MODEL")
    assert "other_script:2" in kept["reasons"]
    assert note["unsupportedCount"] >= 1
