"""The spine's acceptance scenario, end to end through GraphQL over HTTP on real PostgreSQL."""

from __future__ import annotations

import hashlib
import json

from tests.api import queries
from tests.api.audio_files import tone_wav
from tests.api.helpers import all_audit_events, create_encounter, create_patient
from tests.conftest import Api

LEE, OTHER, SCRIBE, AUDIT, KIM = (
    "dr.lee@demo.test",
    "dr.other@other.test",
    "scribe@demo.test",
    "audit@demo.test",
    "dr.kim@demo.test",
)


async def test_clinician_records_a_visit_and_only_the_right_people_see_it(api: Api) -> None:
    patient = await create_patient(api, as_=LEE, given="Zephyrine", family="Quillfeather")
    encounter = await create_encounter(api, patient["id"], as_=LEE)
    assert encounter["status"] == "CREATED"
    assert encounter["clinician"]["email"] == LEE

    audio = tone_wav(2.5)
    response = await api.upload(
        queries.RECORDING_UPLOAD,
        {"input": {"encounterId": encounter["id"], "file": None, "idempotencyKey": "visit-1"}},
        "input.file",
        audio,
        as_=LEE,
    )
    upload = response.json()["data"]["recordingUpload"]
    assert upload["errors"] == []
    assert upload["recording"]["sha256"] == hashlib.sha256(audio).hexdigest()

    seen = (await api.gql(queries.ENCOUNTER, {"id": encounter["id"]}, as_=LEE))["data"]["encounter"]
    assert seen["status"] == "RECORDED"
    [recording] = seen["recordings"]
    assert recording["sha256"] == hashlib.sha256(audio).hexdigest()
    assert recording["byteSize"] == len(audio)
    assert recording["contentType"] == "audio/wav"
    assert abs(recording["durationSeconds"] - 2.5) < 0.01

    # Another organization: the encounter does not exist for them, and the patient is not listed.
    other = await api.gql(queries.ENCOUNTER, {"id": encounter["id"]}, as_=OTHER)
    assert other == {"data": {"encounter": None}}
    listed = (await api.gql(queries.PATIENTS, {"first": 100}, as_=OTHER))["data"]["patients"]["edges"]
    assert patient["id"] not in [edge["node"]["id"] for edge in listed]

    # The scribe assigned to dr.lee sees it; dr.kim (same clinic, not on the care team) does not.
    assert (await api.gql(queries.ENCOUNTER, {"id": encounter["id"]}, as_=SCRIBE))["data"]["encounter"]["id"] == (
        encounter["id"]
    )
    assert (await api.gql(queries.ENCOUNTER, {"id": encounter["id"]}, as_=KIM))["data"]["encounter"] is None

    # Compliance sees who did what, and nothing of the content.
    events = await all_audit_events(api)
    lee_actions = {(e["action"], e["resourceType"], e["outcome"]) for e in events if e["actorName"] == LEE}
    assert {
        ("create", "patient", "ALLOWED"),
        ("create", "encounter", "ALLOWED"),
        ("create", "recording", "ALLOWED"),
        ("read", "encounter", "ALLOWED"),
        ("read", "patient", "ALLOWED"),
        ("read", "recording", "ALLOWED"),
    } <= lee_actions
    assert all(e["actorName"] != OTHER for e in events), "another organization's events must not be listed"
    trail = json.dumps(events)
    for secret in ("Zephyrine", "Quillfeather", patient["id"][:0] + "follow-up"):
        assert secret not in trail


async def test_other_organizations_empty_lookup_is_audited_for_their_compliance(api: Api, services) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from authz.models import AuditEventRow

    patient = await create_patient(api, as_=LEE)
    encounter = await create_encounter(api, patient["id"], as_=LEE)
    await api.gql(queries.ENCOUNTER, {"id": encounter["id"]}, as_=OTHER)
    async with services.database.session() as session:
        rows = (await session.scalars(select(AuditEventRow).where(AuditEventRow.actor_name == OTHER))).all()
    assert [(r.action, r.resource_type, r.resource_id, r.outcome) for r in rows] == [
        ("read", "encounter", encounter["id"], "denied")
    ]
