"""Critical omissions: a note that leaves out a present problem or a medication changed today cannot be
signed until the responsible clinician acknowledges each one; every acknowledgement is audited.

The note and its findings are written directly (as the extractor and drafter services would), so each
test controls exactly which findings are left out and how they were asserted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from authz.principal import Principal
from notes.bootstrap import Services
from notes.encounters.repository import EncounterRepository
from notes.findings.records import FindingRecord
from notes.findings.repository import FindingRepository
from notes.identity.repository import IdentityRepository
from notes.transcripts.repository import TranscriptRepository
from notes.transcripts.status import TranscriptStatus
from notes.visitnotes.content import Section, Sentence
from notes.visitnotes.omissions import OmissionSeverity, severity
from notes.visitnotes.repository import NoteRepository
from notes.visitnotes.status import AuthorKind, SentenceOrigin, Support
from tests.api.helpers import all_audit_events, create_encounter, create_patient
from tests.conftest import Api

LEE, KIM, SCRIBE = "dr.lee@demo.test", "dr.kim@demo.test", "scribe@demo.test"

OMISSIONS = """query($id: ID!) { encounter(id: $id) { note { id status version
  omissions { findingId kind negated severity acknowledgedBy acknowledgedAt } } } }"""
ACKNOWLEDGE = """mutation($input: NoteOmissionAcknowledgeInput!) { noteOmissionAcknowledge(input: $input) {
  note { id version omissions { findingId severity acknowledgedBy } } errors { code field findingIds } } }"""
SIGN = """mutation($input: NoteSignInput!) { noteSign(input: $input) {
  note { id status } errors { code field findingIds } } }"""
UPDATE = """mutation($input: NoteUpdateInput!) { noteUpdate(input: $input) { note { version } errors { code } } }"""
CARE_TEAM_ADD = """mutation($input: CareTeamChangeInput!) { careTeamAdd(input: $input) { errors { code } } }"""

FindingSpec = tuple[str, str, dict[str, Any]]

# (key, kind, assertion and status): what each fixture finding is.
PRESENT_PROBLEM: FindingSpec = ("present_problem", "problem", {})
DENIED_PROBLEM: FindingSpec = ("denied_problem", "problem", {"negated": True})
FAMILY_PROBLEM: FindingSpec = ("family_problem", "problem", {"family": True})
STARTED_DRUG: FindingSpec = ("started_drug", "medication", {"status": "started"})
CONTINUED_DRUG: FindingSpec = ("continued_drug", "medication", {"status": "taking"})
COVERED_PROBLEM: FindingSpec = ("covered_problem", "problem", {})  # the note states it: never an omission


@dataclass
class Visit:
    encounter_id: str
    note_id: str
    findings: dict[str, str]  # fixture key -> finding id


def _finding_row(position: int, kind: str, flags: dict[str, Any], transcript_id: uuid.UUID) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "transcript_id": transcript_id,
        "kind": kind,
        "position": position,
        "text": f"finding {position}",
        "name": f"finding {position}",
        "code_system": None,
        "code": None,
        "code_display": None,
        "dose": None,
        "unit": None,
        "route": None,
        "frequency": None,
        "duration": None,
        "status": None,
        "segment_id": None,
        "start_char": 0,
        "end_char": 1,
        "start_ms": 0,
        "end_ms": 1000,
        "speaker": "clinician",
        "ruleset_version": "test",
    }
    row |= dict.fromkeys(("negated", "historical", "family", "hypothetical", "uncertain", "asked"), False)
    return row | flags


async def drafted_visit(api: Api, services: Services, omitted: list[FindingSpec]) -> Visit:
    """A DRAFT v1 note whose claim check left `omitted` out (COVERED_PROBLEM is always found and stated)."""
    patient = await create_patient(api, as_=LEE)
    encounter_id = uuid.UUID(str((await create_encounter(api, patient["id"], as_=LEE))["id"]))
    specs = [*omitted, COVERED_PROBLEM]
    drafter = Principal.service("drafter", "drafter")
    async with services.database.transaction() as session:
        encounter = await EncounterRepository(session, drafter).get(encounter_id)
        assert encounter is not None
        transcript = await TranscriptRepository(session, drafter).create(
            encounter_id=encounter.id,
            organization_id=encounter.organization_id,
            recording_id=None,
            live=False,
            status=TranscriptStatus.DONE,
        )
        rows = [_finding_row(i, kind, flags, transcript.id) for i, (_, kind, flags) in enumerate(specs)]
        await FindingRepository(session, drafter).replace_for_encounter(encounter.id, encounter.organization_id, rows)
        ids = {key: str(row["id"]) for (key, _, _), row in zip(specs, rows, strict=True)}
        notes = NoteRepository(session, drafter)
        note = await notes.create(
            encounter_id=encounter.id,
            organization_id=encounter.organization_id,
            patient_id=encounter.patient_id,
            template_id="soap",
        )
        sentence = Sentence(
            "s1",
            "Finding stated.",
            SentenceOrigin.SAID_TODAY,
            Support.SUPPORTED,
            AuthorKind.AI,
            finding_ids=(ids["covered_problem"],),
        )
        await notes.add_version(
            note,
            expected_version=0,
            author_kind=AuthorKind.AI,
            author_id=None,
            sections=[Section("ASSESSMENT", "Assessment", (sentence,))],
            inputs={},
            omissions=[
                {"finding_id": ids[key], "kind": kind, "negated": bool(flags.get("negated"))}
                for key, kind, flags in omitted
            ],
            flags=[],
        )
    return Visit(str(encounter_id), str(note.id), ids)


async def omissions(api: Api, visit: Visit) -> dict[str, dict[str, Any]]:
    body = await api.gql(OMISSIONS, {"id": visit.encounter_id}, as_=LEE)
    assert "errors" not in body, body
    return {o["findingId"]: o for o in body["data"]["encounter"]["note"]["omissions"]}


async def acknowledge(api: Api, visit: Visit, keys: list[str], *, as_: str = LEE, **extra: Any) -> dict[str, Any]:
    ids = [visit.findings.get(key, key) for key in keys]
    body = await api.gql(ACKNOWLEDGE, {"input": {"noteId": visit.note_id, "findingIds": ids, **extra}}, as_=as_)
    return body


async def sign(api: Api, visit: Visit, version: int = 1) -> dict[str, Any]:
    body = await api.gql(SIGN, {"input": {"noteId": visit.note_id, "expectedVersion": version}}, as_=LEE)
    assert "errors" not in body, body
    return dict(body["data"]["noteSign"])


def _record(kind: str, **flags: Any) -> FindingRecord:
    values: dict[str, Any] = dict.fromkeys(FindingRecord.__dataclass_fields__)
    values |= dict.fromkeys(("negated", "historical", "family", "hypothetical", "uncertain", "asked"), False)
    return FindingRecord(**(values | {"kind": kind} | flags))


@pytest.mark.parametrize(
    ("kind", "flags", "expected"),
    [
        ("problem", {}, OmissionSeverity.CRITICAL),
        ("problem", {"negated": True}, OmissionSeverity.ROUTINE),
        ("problem", {"asked": True, "uncertain": True}, OmissionSeverity.ROUTINE),
        ("problem", {"uncertain": True}, OmissionSeverity.ROUTINE),
        ("problem", {"historical": True}, OmissionSeverity.ROUTINE),
        ("problem", {"family": True}, OmissionSeverity.ROUTINE),
        ("problem", {"hypothetical": True}, OmissionSeverity.ROUTINE),
        ("medication", {"status": "started"}, OmissionSeverity.CRITICAL),
        ("medication", {"status": "changed"}, OmissionSeverity.CRITICAL),
        ("medication", {"status": "stopped"}, OmissionSeverity.CRITICAL),
        ("medication", {"status": "stopped", "historical": True}, OmissionSeverity.ROUTINE),
        ("medication", {"status": "started", "negated": True}, OmissionSeverity.ROUTINE),
        ("medication", {"status": "taking"}, OmissionSeverity.ROUTINE),
        ("medication", {"status": "conditional"}, OmissionSeverity.ROUTINE),
        ("medication", {"status": "unknown"}, OmissionSeverity.ROUTINE),
    ],
)
def test_severity_follows_assertion_and_medication_status(
    kind: str, flags: dict[str, Any], expected: OmissionSeverity
) -> None:
    assert severity(kind, bool(flags.get("negated")), _record(kind, **flags)) is expected


def test_an_omission_whose_finding_was_replaced_needs_review_unless_it_was_a_denial() -> None:
    assert severity("problem", False, None) is OmissionSeverity.CRITICAL
    assert severity("medication", True, None) is OmissionSeverity.ROUTINE


async def test_sign_is_refused_with_the_open_critical_omissions(api: Api, services: Services) -> None:
    visit = await drafted_visit(api, services, [PRESENT_PROBLEM, DENIED_PROBLEM, STARTED_DRUG, CONTINUED_DRUG])
    listed = await omissions(api, visit)
    assert {key: listed[visit.findings[key]]["severity"] for key, _, _ in (PRESENT_PROBLEM, DENIED_PROBLEM)} == {
        "present_problem": "CRITICAL",
        "denied_problem": "ROUTINE",
    }
    assert listed[visit.findings["started_drug"]]["severity"] == "CRITICAL"
    assert listed[visit.findings["continued_drug"]]["severity"] == "ROUTINE"
    assert all(o["acknowledgedBy"] is None and o["acknowledgedAt"] is None for o in listed.values())

    refused = await sign(api, visit)
    assert refused["note"] is None
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("UNACKNOWLEDGED_OMISSIONS", "noteId")
    assert sorted(error["findingIds"]) == sorted([visit.findings["present_problem"], visit.findings["started_drug"]])
    body = await api.gql(OMISSIONS, {"id": visit.encounter_id}, as_=LEE)
    assert body["data"]["encounter"]["note"]["status"] == "DRAFT"


async def test_acknowledged_omissions_survive_an_edit_and_the_note_signs(api: Api, services: Services) -> None:
    visit = await drafted_visit(api, services, [PRESENT_PROBLEM, STARTED_DRUG, CONTINUED_DRUG])
    first = (await acknowledge(api, visit, ["present_problem"], expectedVersion=1))["data"]["noteOmissionAcknowledge"]
    assert first["errors"] == []
    acknowledged = {o["findingId"]: o["acknowledgedBy"] for o in first["note"]["omissions"]}
    assert acknowledged[visit.findings["present_problem"]] == LEE
    assert acknowledged[visit.findings["started_drug"]] is None

    still_open = await sign(api, visit)
    assert still_open["errors"][0]["code"] == "UNACKNOWLEDGED_OMISSIONS"
    assert still_open["errors"][0]["findingIds"] == [visit.findings["started_drug"]]

    second = (await acknowledge(api, visit, ["started_drug"]))["data"]["noteOmissionAcknowledge"]
    assert second["errors"] == []
    edit = {"noteId": visit.note_id, "expectedVersion": 1, "sections": [{"kind": "ASSESSMENT", "text": "Seen."}]}
    updated = await api.gql(UPDATE, {"input": edit}, as_=LEE)
    assert updated["data"]["noteUpdate"] == {"note": {"version": 2}, "errors": []}
    listed = await omissions(api, visit)  # an edit copies the omissions forward, acknowledgements with them
    assert listed[visit.findings["started_drug"]]["acknowledgedBy"] == LEE
    assert listed[visit.findings["started_drug"]]["acknowledgedAt"] is not None

    signed = await sign(api, visit, version=2)
    assert signed["errors"] == [] and signed["note"]["status"] == "SIGNED"
    late = (await acknowledge(api, visit, ["continued_drug"]))["data"]["noteOmissionAcknowledge"]
    assert late["errors"] == [{"code": "NOTE_SIGNED", "field": "noteId", "findingIds": None}]


async def test_routine_omissions_do_not_block_signing(api: Api, services: Services) -> None:
    visit = await drafted_visit(api, services, [DENIED_PROBLEM, FAMILY_PROBLEM, CONTINUED_DRUG])
    assert {o["severity"] for o in (await omissions(api, visit)).values()} == {"ROUTINE"}
    signed = await sign(api, visit)
    assert signed["errors"] == [] and signed["note"]["status"] == "SIGNED"


async def test_only_the_responsible_clinician_acknowledges(api: Api, services: Services) -> None:
    visit = await drafted_visit(api, services, [PRESENT_PROBLEM])
    scribe = await acknowledge(api, visit, ["present_problem"], as_=SCRIBE)
    assert scribe["data"] is None and scribe["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    stranger = (await acknowledge(api, visit, ["present_problem"], as_=KIM))["data"]["noteOmissionAcknowledge"]
    assert stranger["errors"][0]["code"] == "NOT_FOUND"  # she cannot see the encounter at all
    async with services.database.session() as session:
        kim = await IdentityRepository(session).user_by_email(KIM)
    assert kim is not None
    added = await api.gql(CARE_TEAM_ADD, {"input": {"encounterId": visit.encounter_id, "userId": str(kim.id)}}, as_=LEE)
    assert added["data"]["careTeamAdd"]["errors"] == []
    colleague = (await acknowledge(api, visit, ["present_problem"], as_=KIM))["data"]["noteOmissionAcknowledge"]
    assert colleague["errors"][0]["code"] == "NOT_RESPONSIBLE_CLINICIAN"

    assert (await omissions(api, visit))[visit.findings["present_problem"]]["acknowledgedBy"] is None
    assert (await sign(api, visit))["errors"][0]["code"] == "UNACKNOWLEDGED_OMISSIONS"


async def test_acknowledging_what_is_not_an_omission_is_a_typed_error(api: Api, services: Services) -> None:
    visit = await drafted_visit(api, services, [PRESENT_PROBLEM])
    unknown = str(uuid.uuid4())
    body = await acknowledge(api, visit, ["present_problem", "covered_problem", unknown, "not-an-id"])
    payload = body["data"]["noteOmissionAcknowledge"]
    assert payload["note"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("NOT_AN_OMISSION", "findingIds")
    assert sorted(error["findingIds"]) == sorted([visit.findings["covered_problem"], unknown, "not-an-id"])
    # All or nothing: the real omission named in the same call stays open.
    assert (await omissions(api, visit))[visit.findings["present_problem"]]["acknowledgedBy"] is None

    empty = (await acknowledge(api, visit, []))["data"]["noteOmissionAcknowledge"]
    assert empty["errors"] == [{"code": "INVALID_INPUT", "field": "findingIds", "findingIds": None}]
    stale = (await acknowledge(api, visit, ["present_problem"], expectedVersion=7))["data"]["noteOmissionAcknowledge"]
    assert stale["errors"][0]["code"] == "CONFLICT"


async def test_each_acknowledgement_leaves_an_audit_event(api: Api, services: Services) -> None:
    visit = await drafted_visit(api, services, [PRESENT_PROBLEM, STARTED_DRUG])
    done = (await acknowledge(api, visit, ["present_problem", "started_drug"]))["data"]["noteOmissionAcknowledge"]
    assert done["errors"] == []
    again = (await acknowledge(api, visit, ["started_drug"]))["data"]["noteOmissionAcknowledge"]
    assert again["errors"] == []  # acknowledging twice keeps the first and adds nothing
    events = [e for e in await all_audit_events(api) if e["action"] == "acknowledge_omission"]
    assert [(e["actorName"], e["resourceType"], e["resourceId"], e["outcome"]) for e in events] == [
        (LEE, "note", visit.note_id, "ALLOWED")
    ] * 2


async def test_acknowledgements_are_append_only(api: Api, services: Services) -> None:
    visit = await drafted_visit(api, services, [PRESENT_PROBLEM])
    assert (await acknowledge(api, visit, ["present_problem"]))["data"]["noteOmissionAcknowledge"]["errors"] == []
    with pytest.raises(DBAPIError, match="append-only"):
        async with services.database.transaction() as session:
            await session.execute(text("UPDATE note_omission_acknowledgements SET version = 9"))
