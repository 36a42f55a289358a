"""Live updates against real servers: a websocket client on graphql-transport-ws, audio uploaded over HTTP,
events through the final note; refusals; revocation mid-stream; and fan-out between two server processes.

The servers run the deterministic drafter (AMBIENT_LLM__ENABLED=false) so a visit is documented in seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from authz.tokens import DevTokens
from core.secrets import dev_jwt_secret
from core.settings import Settings
from notes.bootstrap import Services
from tests.api import queries
from tests.api.audio_files import tone_wav
from tests.conftest import new_mrn
from tests.support.graphql_ws import GraphQLSocket
from tests.support.server import RunningServer, running_server
from tests.support.speech import VISIT, SyntheticClip, synthesize_clip

LEE, KIM, OTHER = "dr.lee@demo.test", "dr.kim@demo.test", "dr.other@other.test"

EVENTS = """subscription($id: ID!, $since: ID) {
  encounterEvents(encounterId: $id, since: $since) {
    id kind status sequence segmentIds final noteId section version supported contradicted
  }
}"""
NOTE_UPDATED = "subscription($id: ID!) { noteUpdated(noteId: $id) { id version status sections { kind text } } }"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> SyntheticClip:
    return synthesize_clip(VISIT[:4], tmp_path_factory.mktemp("live") / "short.wav")


def token(settings: Settings, email: str, minutes: int = 30) -> str:
    return DevTokens(dev_jwt_secret(settings)).issue(email, ttl_minutes=minutes)


def gql(server: RunningServer, settings: Settings, who: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{server.http}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token(settings, who)}"},
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    return body


def new_encounter(server: RunningServer, settings: Settings) -> str:
    patient = gql(
        server,
        settings,
        LEE,
        queries.PATIENT_CREATE,
        {"input": {"givenName": "Live", "familyName": "Synthetic", "birthDate": "1980-01-01", "mrn": new_mrn()}},
    )["data"]["patientCreate"]["patient"]
    encounter = gql(
        server, settings, LEE, queries.ENCOUNTER_CREATE, {"input": {"patientId": patient["id"], "reason": "follow-up"}}
    )
    return str(encounter["data"]["encounterCreate"]["encounter"]["id"])


def upload(server: RunningServer, settings: Settings, encounter_id: str, audio: Path) -> None:
    operations = json.dumps(
        {"query": queries.RECORDING_UPLOAD, "variables": {"input": {"encounterId": encounter_id, "file": None}}}
    )
    response = httpx.post(
        f"{server.http}/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": ("visit.wav", audio.read_bytes(), "audio/wav")},
        headers={"Authorization": f"Bearer {token(settings, LEE)}"},
        timeout=60,
    )
    assert response.json()["data"]["recordingUpload"]["errors"] == []


async def collect_until(socket: GraphQLSocket, done: str, timeout: float = 240) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            message = await socket.receive(timeout)
            assert message["type"] == "next", message
            event = message["payload"]["data"]["encounterEvents"]
            events.append(event)
            if event["kind"] == "STATUS_CHANGED" and event["status"] == done:
                return events


async def test_a_visit_is_followed_live_from_upload_to_the_final_note(
    settings: Settings, services: Services, clip: SyntheticClip, tmp_path: Path
) -> None:
    with running_server(settings, tmp_path / "server.log", AMBIENT_LLM__ENABLED="false") as server:
        encounter_id = new_encounter(server, settings)
        socket = await GraphQLSocket.connect(server.ws, token(settings, LEE))
        assert await socket.acknowledged()
        await socket.subscribe(EVENTS, {"id": encounter_id})
        await asyncio.sleep(0.5)  # the subscription is registered before the upload commits
        await asyncio.to_thread(upload, server, settings, encounter_id, clip.path)
        events = await collect_until(socket, "DRAFTED")
        await socket.close()

    kinds = [e["kind"] for e in events]
    statuses = [e["status"] for e in events if e["kind"] == "STATUS_CHANGED"]
    assert statuses == ["RECORDED", "TRANSCRIBING", "TRANSCRIBED", "EXTRACTING", "EXTRACTED", "DRAFTING", "DRAFTED"]
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert kinds.index("SEGMENT_ADDED") < kinds.index("TRANSCRIPT_COMPLETED") < kinds.index("FINDINGS_UPDATED")
    sections = [e["section"] for e in events if e["kind"] == "NOTE_SECTION_DRAFTED"]
    assert sections == ["SUBJECTIVE", "OBJECTIVE", "ASSESSMENT", "PLAN"]
    assert kinds.index("NOTE_SECTION_DRAFTED") < kinds.index("CLAIMS_CHECKED") < len(kinds) - 1
    segment_event = next(e for e in events if e["kind"] == "SEGMENT_ADDED")
    assert segment_event["segmentIds"] and segment_event["final"] is True
    assert "text" not in json.dumps(events)  # ids and small facts, never content


async def test_refusals_revocation_and_resume(settings: Settings, services: Services, tmp_path: Path) -> None:
    with running_server(settings, tmp_path / "server.log", "--no-worker") as server:
        encounter_id = new_encounter(server, settings)

        bad = await GraphQLSocket.connect(server.ws, "not-a-token")
        with pytest.raises(Exception) as closed:
            await bad.receive(10)
        assert getattr(closed.value, "rcvd", None) is not None and closed.value.rcvd.code == 4401  # type: ignore[attr-defined]

        stranger = await GraphQLSocket.connect(server.ws, token(settings, OTHER))
        assert await stranger.acknowledged()
        await stranger.subscribe(EVENTS, {"id": encounter_id})
        refused = await stranger.receive(10)
        assert refused["type"] == "error" or refused["payload"].get("errors"), refused
        assert "NOT_FOUND" in json.dumps(refused)
        await stranger.close()

        # Kim joins the care team, subscribes, then loses access: her stream ends.
        staff = gql(server, settings, LEE, "query { staff(first: 50) { edges { node { id email } } } }", {})
        kim_id = next(e["node"]["id"] for e in staff["data"]["staff"]["edges"] if e["node"]["email"] == KIM)
        change = "mutation($i: CareTeamChangeInput!) { FIELD(input: $i) { errors { code } } }"
        assert (
            gql(
                server,
                settings,
                LEE,
                change.replace("FIELD", "careTeamAdd"),
                {"i": {"encounterId": encounter_id, "userId": kim_id}},
            )["data"]["careTeamAdd"]["errors"]
            == []
        )
        kim = await GraphQLSocket.connect(server.ws, token(settings, KIM))
        assert await kim.acknowledged()
        operation = await kim.subscribe(EVENTS, {"id": encounter_id})
        await asyncio.sleep(0.5)
        gql(
            server,
            settings,
            LEE,
            change.replace("FIELD", "careTeamRemove"),
            {"i": {"encounterId": encounter_id, "userId": kim_id}},
        )
        received = []
        while (message := await kim.receive(20))["type"] != "complete":
            received.append(message["payload"]["data"]["encounterEvents"])
        assert message == {"id": operation, "type": "complete"}
        assert received == [], received  # nothing after losing access, not even the removal itself
        await kim.close()

        # A client that missed events resumes from its last event id.
        lee = await GraphQLSocket.connect(server.ws, token(settings, LEE))
        assert await lee.acknowledged()
        await lee.subscribe(EVENTS, {"id": encounter_id, "since": "0"})
        replayed = [(await lee.receive(10))["payload"]["data"]["encounterEvents"]["kind"] for _ in range(2)]
        assert replayed == ["CARE_TEAM_CHANGED", "CARE_TEAM_CHANGED"]
        await lee.close()

        # A token that expires closes the socket.
        brief = await GraphQLSocket.connect(server.ws, token(settings, LEE, minutes=0))
        assert await brief.acknowledged()  # still inside the verifier's clock-skew leeway
        with pytest.raises(Exception) as expired:
            await brief.receive(40)
        assert expired.value.rcvd.code == 4401  # type: ignore[attr-defined]


async def test_an_event_from_one_server_reaches_a_subscriber_of_another(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    with (
        running_server(settings, tmp_path / "a.log", "--no-worker") as first,
        running_server(settings, tmp_path / "b.log", "--no-worker") as second,
    ):
        encounter_id = new_encounter(first, settings)
        socket = await GraphQLSocket.connect(second.ws, token(settings, LEE))
        assert await socket.acknowledged()
        await socket.subscribe(EVENTS, {"id": encounter_id})
        await asyncio.sleep(0.5)
        audio = tone_wav(1.0)  # a chunk appended through the first server
        operations = json.dumps(
            {
                "query": "mutation($i: RecordingChunkAppendInput!) {"
                " recordingChunkAppend(input: $i) { errors { code } } }",
                "variables": {
                    "i": {
                        "encounterId": encounter_id,
                        "sequence": 0,
                        "chunk": None,
                        "sha256": hashlib.sha256(audio).hexdigest(),
                    }
                },
            }
        )
        response = httpx.post(
            f"{first.http}/graphql",
            data={"operations": operations, "map": json.dumps({"0": ["variables.i.chunk"]})},
            files={"0": ("c0.wav", audio, "audio/wav")},
            headers={"Authorization": f"Bearer {token(settings, LEE)}"},
            timeout=30,
        )
        assert response.json()["data"]["recordingChunkAppend"]["errors"] == [], response.text
        received = [(await socket.receive(20))["payload"]["data"]["encounterEvents"] for _ in range(2)]
        assert [e["kind"] for e in received] == ["STATUS_CHANGED", "CHUNK_RECEIVED"]
        assert received[1]["sequence"] == 0
        await socket.close()
