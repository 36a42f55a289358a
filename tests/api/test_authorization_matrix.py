"""Every root field × every role × a record in the caller's own organization and in the other one.

Expected outcomes:
  DATA       the record (or a list containing it)
  HIDDEN     null / absent from the list: exactly what a non-existent record looks like
  FORBIDDEN  a top-level error with extensions.code FORBIDDEN (the role may never do this)
  UNAUTH     a top-level error with extensions.code UNAUTHENTICATED
  ERROR:X    a mutation payload error with code X
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from authz.principal import Principal
from notes.bootstrap import Services
from notes.encounters.repository import EncounterRepository
from notes.identity.repository import IdentityRepository
from notes.visitnotes.content import Section, Sentence
from notes.visitnotes.repository import NoteRepository
from notes.visitnotes.status import AuthorKind, SentenceOrigin, Support
from tests.api import queries
from tests.api.audio_files import tone_wav
from tests.api.helpers import create_encounter, create_patient
from tests.conftest import Api, new_mrn

LEE = "dr.lee@demo.test"  # clinician, responsible for the demo encounter
KIM = "dr.kim@demo.test"  # clinician in the same clinic, not on that encounter
SCRIBE = "scribe@demo.test"  # assigned to dr.lee
AUDIT = "audit@demo.test"  # compliance
ADMIN = "admin@demo.test"
OTHER = "dr.other@other.test"  # clinician of the other organization
ANON = None

ACTORS = {
    "lee": LEE,
    "kim": KIM,
    "scribe": SCRIBE,
    "audit": AUDIT,
    "admin": ADMIN,
    "other": OTHER,
    "anon": ANON,
}


@dataclass
class World:
    demo_patient: str
    demo_encounter: str
    other_patient: str
    other_encounter: str
    demo_note: str | None = None
    other_note: str | None = None
    demo_colleague: str | None = None  # a clinician a care team could add
    other_colleague: str | None = None

    def target(self, org: str) -> tuple[str, str]:
        return (self.demo_patient, self.demo_encounter) if org == "demo" else (self.other_patient, self.other_encounter)

    def note(self, org: str) -> str:
        note = self.demo_note if org == "demo" else self.other_note
        assert note is not None
        return note

    def colleague(self, org: str) -> str:
        user = self.demo_colleague if org == "demo" else self.other_colleague
        assert user is not None
        return user


async def make_world(api: Api, services: Services, *, notes: bool) -> World:
    demo_patient = await create_patient(api, as_=LEE)
    demo_encounter = await create_encounter(api, demo_patient["id"], as_=LEE)
    other_patient = await create_patient(api, as_=OTHER)
    other_encounter = await create_encounter(api, other_patient["id"], as_=OTHER)
    world = World(demo_patient["id"], demo_encounter["id"], other_patient["id"], other_encounter["id"])
    async with services.database.session() as session:
        identity = IdentityRepository(session)
        kim, other = await identity.user_by_email(KIM), await identity.user_by_email(OTHER)
    assert kim is not None and other is not None
    world.demo_colleague, world.other_colleague = str(kim.id), str(other.id)
    if notes:  # a drafted v1 note in each organization, written as the drafter service would
        world.demo_note = await draft_fixture_note(services, world.demo_encounter)
        world.other_note = await draft_fixture_note(services, world.other_encounter)
    return world


async def draft_fixture_note(services: Services, encounter_id: str) -> str:
    drafter = Principal.service("drafter", "drafter")
    async with services.database.transaction() as session:
        encounter = await EncounterRepository(session, drafter).get(uuid.UUID(encounter_id))
        assert encounter is not None
        notes = NoteRepository(session, drafter)
        note = await notes.create(
            encounter_id=encounter.id,
            organization_id=encounter.organization_id,
            patient_id=encounter.patient_id,
            template_id="soap",
        )
        sentence = Sentence(
            "s1", "Follow up in two weeks.", SentenceOrigin.SAID_TODAY, Support.SUPPORTED, AuthorKind.AI
        )
        await notes.add_version(
            note,
            expected_version=0,
            author_kind=AuthorKind.AI,
            author_id=None,
            sections=[Section("PLAN", "Plan", (sentence,))],
            inputs={},
            omissions=[],
            flags=[],
        )
    return str(note.id)


def outcome_of_query(body: dict[str, Any], field: str, record_id: str) -> str:
    if body.get("errors"):
        codes = {error["extensions"]["code"] for error in body["errors"]}
        assert len(codes) == 1, body
        labels = {"FORBIDDEN": "FORBIDDEN", "UNAUTHENTICATED": "UNAUTH"}
        return labels[str(codes.pop())]
    value = body["data"][field]
    if field == "me":
        return "DATA" if value else "HIDDEN"
    if field == "auditEvents":  # filtered by the record's id: are its events visible?
        return "DATA" if value["edges"] else "HIDDEN"
    if isinstance(value, dict) and "edges" in value:
        ids = {edge["node"]["id"] for edge in value["edges"]}
        return "DATA" if record_id in ids else "HIDDEN"
    return "DATA" if value and value["id"] == record_id else "HIDDEN"


def outcome_of_mutation(body: dict[str, Any], field: str) -> str:
    if body.get("errors"):
        codes = {error["extensions"]["code"] for error in body["errors"]}
        return {"FORBIDDEN": "FORBIDDEN", "UNAUTHENTICATED": "UNAUTH"}[codes.pop()]
    payload = body["data"][field]
    if payload["errors"]:
        return "ERROR:" + str(payload["errors"][0]["code"])
    return "DATA"


ME = "query { me { user { email } roles } }"
NOTE_MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "noteUpdate": (
        "mutation($input: NoteUpdateInput!) { noteUpdate(input: $input) { note { id } errors { code } } }",
        {"expectedVersion": 1, "sections": [{"kind": "PLAN", "text": "Return in a week."}]},
    ),
    "noteSign": (
        "mutation($input: NoteSignInput!) { noteSign(input: $input) { note { id } errors { code } } }",
        {"expectedVersion": 1},
    ),
    "noteOmissionAcknowledge": (
        "mutation($input: NoteOmissionAcknowledgeInput!) { noteOmissionAcknowledge(input: $input) { note { id } "
        "errors { code } } }",
        {"findingIds": [str(uuid.uuid4())]},
    ),
    "noteAmend": (
        "mutation($input: NoteAmendInput!) { noteAmend(input: $input) { note { id } errors { code } } }",
        {"reason": "correction", "text": "Addendum."},
    ),
    "noteRegenerate": (
        "mutation($input: NoteRegenerateInput!) { noteRegenerate(input: $input) { note { id } errors { code } } }",
        {"sections": ["PLAN"]},
    ),
}
CARE_TEAM = "mutation($input: CareTeamChangeInput!) { FIELD(input: $input) { encounterId errors { code } } }"
STAFF = "query { staff(first: 100) { edges { node { id } } } }"
WORKLIST = "query { worklist(first: 100) { edges { node { id } } } }"
CHUNK_APPEND = """mutation($input: RecordingChunkAppendInput!) {
  recordingChunkAppend(input: $input) { chunk { sequence } errors { code } } }"""
FINISH = """mutation($input: RecordingFinishInput!) {
  recordingFinish(input: $input) { encounter { id } errors { code } } }"""
PATIENT = "query($id: ID!) { patient(id: $id) { id } }"
ENCOUNTERS = "query { encounters(first: 100) { edges { node { id } } } }"
AUDIT_EVENTS = "query($id: ID) { auditEvents(first: 5, resourceId: $id) { edges { node { id } } } }"

# field -> actor -> (outcome for a demo-org record, outcome for an other-org record)
EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "me": {a: ("DATA", "DATA") for a in ACTORS} | {"anon": ("UNAUTH", "UNAUTH")},
    "patient": {
        "lee": ("DATA", "HIDDEN"),
        "kim": ("DATA", "HIDDEN"),
        "scribe": ("DATA", "HIDDEN"),
        "audit": ("FORBIDDEN", "FORBIDDEN"),
        "admin": ("FORBIDDEN", "FORBIDDEN"),
        "other": ("HIDDEN", "DATA"),
        "anon": ("UNAUTH", "UNAUTH"),
    },
    "encounter": {
        "lee": ("DATA", "HIDDEN"),
        "kim": ("HIDDEN", "HIDDEN"),
        "scribe": ("DATA", "HIDDEN"),
        "audit": ("FORBIDDEN", "FORBIDDEN"),
        "admin": ("FORBIDDEN", "FORBIDDEN"),
        "other": ("HIDDEN", "DATA"),
        "anon": ("UNAUTH", "UNAUTH"),
    },
    "auditEvents": {
        "lee": ("FORBIDDEN", "FORBIDDEN"),
        "kim": ("FORBIDDEN", "FORBIDDEN"),
        "scribe": ("FORBIDDEN", "FORBIDDEN"),
        "audit": ("DATA", "HIDDEN"),  # its own organization's trail only
        "admin": ("FORBIDDEN", "FORBIDDEN"),
        "other": ("FORBIDDEN", "FORBIDDEN"),
        "anon": ("UNAUTH", "UNAUTH"),
    },
    "encounterCreate": {
        "lee": ("DATA", "ERROR:PATIENT_NOT_FOUND"),
        "kim": ("DATA", "ERROR:PATIENT_NOT_FOUND"),
        "scribe": ("DATA", "ERROR:PATIENT_NOT_FOUND"),
        "audit": ("FORBIDDEN", "FORBIDDEN"),
        "admin": ("FORBIDDEN", "FORBIDDEN"),
        "other": ("ERROR:PATIENT_NOT_FOUND", "DATA"),
        "anon": ("UNAUTH", "UNAUTH"),
    },
    "recordingUpload": {
        "lee": ("DATA", "ERROR:ENCOUNTER_NOT_FOUND"),
        "kim": ("ERROR:ENCOUNTER_NOT_FOUND", "ERROR:ENCOUNTER_NOT_FOUND"),
        "scribe": ("DATA", "ERROR:ENCOUNTER_NOT_FOUND"),
        "audit": ("FORBIDDEN", "FORBIDDEN"),
        "admin": ("FORBIDDEN", "FORBIDDEN"),
        "other": ("ERROR:ENCOUNTER_NOT_FOUND", "DATA"),
        "anon": ("UNAUTH", "UNAUTH"),
    },
}
# Live chunks follow the same rules as whole uploads; finishing a recording that has no chunks yet tells a
# caller who may see the encounter NO_LIVE_RECORDING, and anyone else that the encounter does not exist.
EXPECTED["recordingChunkAppend"] = EXPECTED["recordingUpload"]
EXPECTED["recordingFinish"] = {
    actor: tuple(outcome.replace("DATA", "ERROR:NO_LIVE_RECORDING") for outcome in row)  # type: ignore[misc]
    for actor, row in EXPECTED["recordingUpload"].items()
}
# Notes: clinicians and scribes who may see the encounter edit and regenerate; only the responsible clinician
# signs and amends (an unsigned note cannot be amended: NOT_SIGNED shows the call got that far).
NOTE_ROW = {
    "lee": ("DATA", "ERROR:NOT_FOUND"),
    "kim": ("ERROR:NOT_FOUND", "ERROR:NOT_FOUND"),
    "scribe": ("DATA", "ERROR:NOT_FOUND"),
    "audit": ("FORBIDDEN", "FORBIDDEN"),
    "admin": ("FORBIDDEN", "FORBIDDEN"),
    "other": ("ERROR:NOT_FOUND", "DATA"),
    "anon": ("UNAUTH", "UNAUTH"),
}
EXPECTED["noteUpdate"] = NOTE_ROW
EXPECTED["noteRegenerate"] = NOTE_ROW
EXPECTED["noteSign"] = NOTE_ROW | {"scribe": ("FORBIDDEN", "FORBIDDEN")}
EXPECTED["noteAmend"] = {
    actor: tuple(o.replace("DATA", "ERROR:NOT_SIGNED") for o in row)  # type: ignore[misc]
    for actor, row in EXPECTED["noteSign"].items()
}
# Acknowledging omissions is part of signing; the fixture note has none, so NOT_AN_OMISSION shows the call got that far.
EXPECTED["noteOmissionAcknowledge"] = {
    actor: tuple(o.replace("DATA", "ERROR:NOT_AN_OMISSION") for o in row)  # type: ignore[misc]
    for actor, row in EXPECTED["noteSign"].items()
}
# Care teams: the responsible clinician or an administrator of the organization.
EXPECTED["careTeamAdd"] = {
    "lee": ("DATA", "ERROR:NOT_FOUND"),
    "kim": ("ERROR:NOT_FOUND", "ERROR:NOT_FOUND"),
    "scribe": ("FORBIDDEN", "FORBIDDEN"),
    "audit": ("FORBIDDEN", "FORBIDDEN"),
    "admin": ("DATA", "ERROR:NOT_FOUND"),
    "other": ("ERROR:NOT_FOUND", "DATA"),
    "anon": ("UNAUTH", "UNAUTH"),
}
EXPECTED["careTeamRemove"] = EXPECTED["careTeamAdd"]
# Staff directory: your own organization's people only.
EXPECTED["staff"] = {
    actor: ("DATA", "HIDDEN") if actor != "other" else ("HIDDEN", "DATA") for actor in ACTORS if actor != "anon"
} | {"anon": ("UNAUTH", "UNAUTH")}
# Worklist: notes you may review (scribes review for their clinicians).
EXPECTED["worklist"] = {
    "lee": ("DATA", "HIDDEN"),
    "kim": ("HIDDEN", "HIDDEN"),
    "scribe": ("DATA", "HIDDEN"),
    "audit": ("FORBIDDEN", "FORBIDDEN"),
    "admin": ("FORBIDDEN", "FORBIDDEN"),
    "other": ("HIDDEN", "DATA"),
    "anon": ("UNAUTH", "UNAUTH"),
}
# Lists: the record is listed where it would be DATA above, absent otherwise.
EXPECTED["patients"] = EXPECTED["patient"]
EXPECTED["encounters"] = EXPECTED["encounter"]
# Registration does not depend on an existing record: the same in both columns, in the caller's own org.
EXPECTED["patientCreate"] = {
    "lee": ("DATA", "DATA"),
    "kim": ("DATA", "DATA"),
    "scribe": ("DATA", "DATA"),
    "audit": ("FORBIDDEN", "FORBIDDEN"),
    "admin": ("FORBIDDEN", "FORBIDDEN"),
    "other": ("DATA", "DATA"),
    "anon": ("UNAUTH", "UNAUTH"),
}


async def run_field(api: Api, world: World, field: str, actor: str | None, org: str) -> str:
    patient_id, encounter_id = world.target(org)
    if field == "me":
        return outcome_of_query(await api.gql(ME, as_=actor), "me", "")
    if field == "patient":
        return outcome_of_query(await api.gql(PATIENT, {"id": patient_id}, as_=actor), "patient", patient_id)
    if field == "patients":
        return outcome_of_query(await api.gql(queries.PATIENTS, {"first": 100}, as_=actor), "patients", patient_id)
    if field == "encounter":
        return outcome_of_query(
            await api.gql(queries.ENCOUNTER, {"id": encounter_id}, as_=actor), "encounter", encounter_id
        )
    if field == "encounters":
        return outcome_of_query(await api.gql(ENCOUNTERS, as_=actor), "encounters", encounter_id)
    if field == "auditEvents":
        return outcome_of_query(await api.gql(AUDIT_EVENTS, {"id": encounter_id}, as_=actor), "auditEvents", "")
    if field == "patientCreate":
        variables = {
            "input": {
                "givenName": "Neo",
                "familyName": "Synthetic",
                "birthDate": "1990-05-05",
                "mrn": new_mrn(),
            }
        }
        return outcome_of_mutation(await api.gql(queries.PATIENT_CREATE, variables, as_=actor), field)
    if field == "encounterCreate":
        variables = {"input": {"patientId": patient_id, "reason": "check-up"}}
        return outcome_of_mutation(await api.gql(queries.ENCOUNTER_CREATE, variables, as_=actor), field)
    if field == "recordingUpload":
        response = await api.upload(
            queries.RECORDING_UPLOAD,
            {"input": {"encounterId": encounter_id, "file": None}},
            "input.file",
            tone_wav(0.5),
            as_=actor,
            headers={} if actor else {"Apollo-Require-Preflight": "true"},
        )
        assert response.status_code == 200, response.text
        return outcome_of_mutation(response.json(), field)
    if field == "recordingChunkAppend":
        chunk = tone_wav(0.5)
        response = await api.upload(
            CHUNK_APPEND,
            {
                "input": {
                    "encounterId": encounter_id,
                    "sequence": 0,
                    "chunk": None,
                    "sha256": hashlib.sha256(chunk).hexdigest(),
                }
            },
            "input.chunk",
            chunk,
            as_=actor,
            headers={} if actor else {"Apollo-Require-Preflight": "true"},
        )
        assert response.status_code == 200, response.text
        return outcome_of_mutation(response.json(), field)
    if field == "recordingFinish":
        body = await api.gql(FINISH, {"input": {"encounterId": encounter_id}}, as_=actor)
        return outcome_of_mutation(body, field)
    if field in NOTE_MUTATIONS:
        query, variables = NOTE_MUTATIONS[field]
        body = await api.gql(query, {"input": variables | {"noteId": world.note(org)}}, as_=actor)
        return outcome_of_mutation(body, field)
    if field in ("careTeamAdd", "careTeamRemove"):
        body = await api.gql(
            CARE_TEAM.replace("FIELD", field),
            {"input": {"encounterId": encounter_id, "userId": world.colleague(org)}},
            as_=actor,
        )
        return outcome_of_mutation(body, field)
    if field == "staff":
        return outcome_of_query(await api.gql(STAFF, as_=actor), "staff", world.colleague(org))
    if field == "worklist":
        return outcome_of_query(await api.gql(WORKLIST, as_=actor), "worklist", world.note(org))
    raise AssertionError(field)


@pytest.mark.parametrize("actor", list(ACTORS))
@pytest.mark.parametrize("field", list(EXPECTED))
async def test_root_field_by_role_and_organization(api: Api, services: Services, field: str, actor: str) -> None:
    world = await make_world(api, services, notes=field in NOTE_MUTATIONS or field == "worklist")
    demo = await run_field(api, world, field, ACTORS[actor], "demo")
    other = await run_field(api, world, field, ACTORS[actor], "other")
    assert (demo, other) == EXPECTED[field][actor]


def test_the_matrix_covers_every_root_field() -> None:
    from api.schema import build_schema
    from core.settings import ApiSettings

    schema = build_schema(ApiSettings(), introspection=True)
    roots = {
        name
        for root in (schema.query, schema.mutation)
        if root is not None
        for name in schema.schema_converter.from_object(root.__strawberry_definition__).fields  # type: ignore[attr-defined]
    }
    assert roots == set(EXPECTED), f"rows missing: {sorted(roots - set(EXPECTED))}"
