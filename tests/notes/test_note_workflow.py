"""From audio to a signed note: pipeline jobs, then the clinician's edit / sign / amend / regenerate.

Drafting here uses the deterministic drafter (clearly labelled, no model) so the workflow is tested
quickly; tests/notes/drafting covers the LLM drafters against real OpenAI-protocol servers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.settings import LlmSettings
from notes.bootstrap import Services
from notes.pipeline.runtime import PipelineRuntime
from notes.pipeline.worker import WorkerOptions, run_worker
from tests.api import queries
from tests.api.helpers import create_encounter, create_patient
from tests.conftest import Api
from tests.support.speech import VISIT, SyntheticClip, synthesize_clip

LEE, KIM, SCRIBE, OTHER = "dr.lee@demo.test", "dr.kim@demo.test", "scribe@demo.test", "dr.other@other.test"

NOTE = """
query($id: ID!) {
  encounter(id: $id) {
    status
    findings {
      problems { id text negated }
      medications { id name dose unit frequency evidence { segmentId startMs endMs } }
    }
    note {
      id status version template unsupportedCount contradictedCount signedAt signedBy contentHash
      drafter { kind model promptVersion fallbackReason }
      sections { kind title text editedByClinician
        sentences { id text origin support reasons authoredBy evidence { segmentId startMs endMs } } }
      omissions { findingId kind severity acknowledgedBy }
      versions { version author authorKind createdAt }
      amendments { reason text author }
    }
  }
}"""
UPDATE = """mutation($input: NoteUpdateInput!) { noteUpdate(input: $input) {
  note { id version sections { kind text editedByClinician } } errors { code field } } }"""
SIGN = """mutation($input: NoteSignInput!) { noteSign(input: $input) {
  note { id status version signedAt signedBy contentHash } errors { code } } }"""
AMEND = """mutation($input: NoteAmendInput!) { noteAmend(input: $input) {
  note { status amendments { reason text author } } amendment { id } errors { code } } }"""
ACKNOWLEDGE = """mutation($input: NoteOmissionAcknowledgeInput!) { noteOmissionAcknowledge(input: $input) {
  note { version } errors { code } } }"""
REGENERATE = """mutation($input: NoteRegenerateInput!) { noteRegenerate(input: $input) {
  note { id status version } errors { code } } }"""
CARE_TEAM_ADD = (
    """mutation($input: CareTeamChangeInput!) { careTeamAdd(input: $input) { encounterId errors { code } } }"""
)
STAFF = "query { staff(first: 50) { edges { node { id email } } } }"
WORKLIST = "query { worklist(first: 10) { edges { node { id status contradictedCount unsupportedCount } cursor } } }"


@pytest.fixture(scope="session")
def visit(tmp_path_factory: pytest.TempPathFactory) -> SyntheticClip:
    return synthesize_clip(VISIT, tmp_path_factory.mktemp("note-speech") / "visit.wav")


@pytest.fixture(scope="session")
def deterministic_runtime(services: Services) -> PipelineRuntime:
    settings = services.settings.model_copy(update={"llm": LlmSettings(enabled=False)})
    return PipelineRuntime(dataclasses.replace(services, settings=settings))


async def drain(services: Services, runtime: PipelineRuntime) -> None:
    await run_worker(services, services.database_url, WorkerOptions(), wait=False, runtime=runtime)


async def documented_encounter(api: Api, services: Services, runtime: PipelineRuntime, clip: SyntheticClip) -> str:
    patient = await create_patient(api, as_=LEE)
    encounter_id = str((await create_encounter(api, patient["id"], as_=LEE))["id"])
    response = await api.upload(
        queries.RECORDING_UPLOAD,
        {"input": {"encounterId": encounter_id, "file": None}},
        "input.file",
        clip.path.read_bytes(),
        as_=LEE,
    )
    assert response.json()["data"]["recordingUpload"]["errors"] == []
    await drain(services, runtime)
    return encounter_id


async def read_note(api: Api, encounter_id: str, as_: str = LEE) -> dict[str, Any]:
    body = await api.gql(NOTE, {"id": encounter_id}, as_=as_)
    assert "errors" not in body, body
    return dict(body["data"]["encounter"])


async def test_the_pipeline_drafts_a_grounded_note_and_the_clinician_signs_it(
    api: Api, services: Services, deterministic_runtime: PipelineRuntime, visit: SyntheticClip
) -> None:
    encounter_id = await documented_encounter(api, services, deterministic_runtime, visit)
    encounter = await read_note(api, encounter_id)
    assert encounter["status"] == "DRAFTED"
    meds = {m["name"] for m in encounter["findings"]["medications"]}
    assert len({"metformin", "lisinopril", "atorvastatin"} & meds) >= 2  # through tiny.en ASR
    for med in encounter["findings"]["medications"]:
        assert med["evidence"][0]["segmentId"] and med["evidence"][0]["endMs"] > med["evidence"][0]["startMs"]
    note = encounter["note"]
    assert (note["status"], note["version"], note["template"]) == ("DRAFT", 1, "soap")
    assert note["drafter"]["kind"] == "DETERMINISTIC"  # never presented as AI prose
    assert note["drafter"]["fallbackReason"] == "LLM_DISABLED"  # and it says why the model did not write it
    assert [s["kind"] for s in note["sections"]] == ["SUBJECTIVE", "OBJECTIVE", "ASSESSMENT", "PLAN"]
    sentences = [s for section in note["sections"] for s in section["sentences"]]
    assert sentences and all(s["authoredBy"] == "AI" for s in sentences)
    assert all(s["evidence"] for s in sentences if s["origin"] == "SAID_TODAY")
    note_text = " ".join(s["text"].lower() for s in sentences)
    assert any(name in note_text for name in meds)

    # The clinician edits the plan; v2 is theirs, the rest keeps its provenance.
    plan = next(s for s in note["sections"] if s["kind"] == "PLAN")
    edited = plan["text"] + " Follow up in three months."
    body = await api.gql(
        UPDATE,
        {"input": {"noteId": note["id"], "expectedVersion": 1, "sections": [{"kind": "PLAN", "text": edited}]}},
        as_=LEE,
    )
    payload = body["data"]["noteUpdate"]
    assert payload["errors"] == [] and payload["note"]["version"] == 2
    stale = await api.gql(
        UPDATE,
        {"input": {"noteId": note["id"], "expectedVersion": 1, "sections": [{"kind": "PLAN", "text": "x."}]}},
        as_=LEE,
    )
    assert stale["data"]["noteUpdate"]["errors"] == [{"code": "CONFLICT", "field": "expectedVersion"}]

    # Regenerating a section the clinician edited is refused; others may be regenerated.
    refused = await api.gql(REGENERATE, {"input": {"noteId": note["id"], "sections": ["PLAN"]}}, as_=LEE)
    assert refused["data"]["noteRegenerate"]["errors"] == [{"code": "SECTION_EDITED"}]
    regenerated = await api.gql(REGENERATE, {"input": {"noteId": note["id"], "sections": ["SUBJECTIVE"]}}, as_=LEE)
    assert regenerated["data"]["noteRegenerate"]["note"]["status"] == "DRAFTING"
    await drain(services, deterministic_runtime)
    after = (await read_note(api, encounter_id))["note"]
    assert after["version"] == 3 and after["status"] == "DRAFT"
    assert next(s for s in after["sections"] if s["kind"] == "PLAN")["text"] == edited  # untouched
    assert [v["authorKind"] for v in after["versions"]] == ["AI", "CLINICIAN", "AI"]

    # The scribe may edit but never sign.
    scribe_sign = await api.gql(SIGN, {"input": {"noteId": note["id"], "expectedVersion": 3}}, as_=SCRIBE)
    assert scribe_sign["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Findings the draft left out that matter (a present problem, a changed drug) are acknowledged first.
    critical = [o["findingId"] for o in after["omissions"] if o["severity"] == "CRITICAL"]
    if critical:
        blocked = await api.gql(SIGN, {"input": {"noteId": note["id"], "expectedVersion": 3}}, as_=LEE)
        assert blocked["data"]["noteSign"]["errors"] == [{"code": "UNACKNOWLEDGED_OMISSIONS"}]
        acknowledged = await api.gql(
            ACKNOWLEDGE, {"input": {"noteId": note["id"], "findingIds": critical, "expectedVersion": 3}}, as_=LEE
        )
        assert acknowledged["data"]["noteOmissionAcknowledge"]["errors"] == []
    signed = (await api.gql(SIGN, {"input": {"noteId": note["id"], "expectedVersion": 3}}, as_=LEE))["data"]["noteSign"]
    assert signed["errors"] == []
    assert signed["note"]["status"] == "SIGNED" and signed["note"]["signedBy"] == LEE
    assert len(signed["note"]["contentHash"]) == 64

    # Signed means frozen: edits are refused by the service and by the database itself.
    late = await api.gql(
        UPDATE,
        {"input": {"noteId": note["id"], "expectedVersion": 3, "sections": [{"kind": "PLAN", "text": "x."}]}},
        as_=LEE,
    )
    assert late["data"]["noteUpdate"]["errors"][0]["code"] == "NOTE_SIGNED"
    with pytest.raises(DBAPIError, match="signed note never changes"):
        async with services.database.transaction() as session:
            await session.execute(
                text("UPDATE notes SET status = 'DRAFT' WHERE id = :id"), {"id": uuid.UUID(note["id"])}
            )
    with pytest.raises(DBAPIError, match="append-only"):
        async with services.database.transaction() as session:
            await session.execute(text("UPDATE note_versions SET content_hash = 'x'"))

    amended = (
        await api.gql(AMEND, {"input": {"noteId": note["id"], "reason": "lab result", "text": "A1c was 7.1."}}, as_=LEE)
    )["data"]["noteAmend"]
    assert amended["errors"] == [] and amended["note"]["status"] == "SIGNED"
    final = (await read_note(api, encounter_id))["note"]
    assert final["amendments"] == [{"reason": "lab result", "text": "A1c was 7.1.", "author": LEE}]
    assert final["contentHash"] == signed["note"]["contentHash"]  # the signed text did not move
    assert (await read_note(api, encounter_id))["status"] == "SIGNED"
    assert (await api.gql(NOTE, {"id": encounter_id}, as_=OTHER))["data"]["encounter"] is None


async def test_two_clinicians_editing_at_once_one_wins_the_other_gets_conflict(
    api: Api, services: Services, deterministic_runtime: PipelineRuntime, visit: SyntheticClip
) -> None:
    encounter_id = await documented_encounter(api, services, deterministic_runtime, visit)
    staff = (await api.gql(STAFF, as_=LEE))["data"]["staff"]["edges"]
    kim_id = next(e["node"]["id"] for e in staff if e["node"]["email"] == KIM)
    added = await api.gql(CARE_TEAM_ADD, {"input": {"encounterId": encounter_id, "userId": kim_id}}, as_=LEE)
    assert added["data"]["careTeamAdd"]["errors"] == []
    note = (await read_note(api, encounter_id))["note"]

    async def edit(who: str, words: str) -> dict[str, Any]:
        body = await api.gql(
            UPDATE,
            {
                "input": {
                    "noteId": note["id"],
                    "expectedVersion": note["version"],
                    "sections": [{"kind": "PLAN", "text": words}],
                }
            },
            as_=who,
        )
        return dict(body["data"]["noteUpdate"])

    results = await asyncio.gather(edit(LEE, "Plan by Lee."), edit(KIM, "Plan by Kim."))
    codes = sorted(tuple(e["code"] for e in r["errors"]) for r in results)
    assert codes == [(), ("CONFLICT",)]
    winner = next(r for r in results if not r["errors"])
    assert winner["note"]["version"] == note["version"] + 1
    # Kim is on the care team but not responsible: may edit, may not sign.
    kim_sign = await api.gql(SIGN, {"input": {"noteId": note["id"], "expectedVersion": note["version"] + 1}}, as_=KIM)
    assert kim_sign["data"]["noteSign"]["errors"] == [{"code": "NOT_RESPONSIBLE_CLINICIAN"}]


async def test_worklist_orders_by_urgency_and_hides_others_notes(
    api: Api, services: Services, deterministic_runtime: PipelineRuntime, visit: SyntheticClip
) -> None:
    first = await documented_encounter(api, services, deterministic_runtime, visit)
    second = await documented_encounter(api, services, deterministic_runtime, visit)
    async with services.database.transaction() as session:  # make the second note the more urgent one
        await session.execute(
            text("UPDATE notes SET contradicted_count = 2 WHERE encounter_id = :id"), {"id": uuid.UUID(second)}
        )
    lee = (await api.gql(WORKLIST, as_=LEE))["data"]["worklist"]["edges"]
    notes = {e: (await read_note(api, e))["note"]["id"] for e in (first, second)}
    assert [edge["node"]["id"] for edge in lee] == [notes[second], notes[first]]
    assert (await api.gql(WORKLIST, as_=KIM))["data"]["worklist"]["edges"] == []
    assert (await api.gql(WORKLIST, as_=SCRIBE))["data"]["worklist"]["edges"] != []
