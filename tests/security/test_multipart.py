"""Issue 13.4: a malformed GraphQL multipart request is a 400 with a typed error, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.api import queries
from tests.api.audio_files import tone_wav
from tests.api.helpers import create_encounter, create_patient
from tests.conftest import Api

LEE = "dr.lee@demo.test"
UPLOAD = {"query": queries.RECORDING_UPLOAD, "variables": {"input": {"encounterId": "x", "file": None}}}
GOOD_OPERATIONS = json.dumps(UPLOAD)
GOOD_MAP = json.dumps({"0": ["variables.input.file"]})


@pytest.mark.parametrize(
    ("operations", "mapping"),
    [
        (GOOD_OPERATIONS, json.dumps({"0": ["variables.f.x.y"]})),  # the reported one
        (GOOD_OPERATIONS, json.dumps({"0": ["variables.input.file.x"]})),  # through the null placeholder
        (GOOD_OPERATIONS, json.dumps({"0": ["variables.input.encounterId.x"]})),  # through a string
        (GOOD_OPERATIONS, json.dumps({"0": ["variables.input"]})),  # over a value that is not a placeholder
        (GOOD_OPERATIONS, json.dumps({"0": ["query"]})),  # outside the variables
        (GOOD_OPERATIONS, json.dumps({"0": ["variables"]})),
        (GOOD_OPERATIONS, json.dumps({"0": ["variables.input.file", 7]})),
        (GOOD_OPERATIONS, json.dumps({"0": "variables.input.file"})),
        (GOOD_OPERATIONS, json.dumps({"0": []})),
        (GOOD_OPERATIONS, json.dumps({"1": ["variables.input.file"]})),  # a part that was not sent
        (GOOD_OPERATIONS, json.dumps([["0", "variables.input.file"]])),
        (GOOD_OPERATIONS, "{not json"),
        (json.dumps({**UPLOAD, "variables": {"l": [None]}}), json.dumps({"0": ["variables.l.1"]})),
        (json.dumps({**UPLOAD, "variables": {"l": [None]}}), json.dumps({"0": ["variables.l.٣"]})),
        (json.dumps({**UPLOAD, "variables": {"l": [None]}}), json.dumps({"0": ["variables.l." + "9" * 5000]})),
        (json.dumps({**UPLOAD, "variables": None}), GOOD_MAP),
        (json.dumps([UPLOAD]), json.dumps({"0": ["0.variables.input.file"]})),
        ("[1]", GOOD_MAP),
        ("null", GOOD_MAP),
        ("{not json", GOOD_MAP),
        ("[" * 100_000 + "]" * 100_000, GOOD_MAP),
        (None, GOOD_MAP),
    ],
)
async def test_malformed_multipart_is_a_typed_400(api: Api, operations: str | None, mapping: str) -> None:
    fields = {"map": mapping} | ({"operations": operations} if operations is not None else {})
    response = await api.client.post(
        "/graphql",
        data=fields,
        files={"0": ("visit.wav", b"RIFF0000WAVE", "audio/wav")},
        headers={"Authorization": f"Bearer {api.token(LEE)}"},
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INVALID_MULTIPART"


async def test_map_naming_a_form_field_instead_of_a_file_is_refused(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        data={"operations": GOOD_OPERATIONS, "map": GOOD_MAP, "0": "not a file"},
        files={"1": ("visit.wav", b"RIFF0000WAVE", "audio/wav")},
        headers={"Authorization": f"Bearer {api.token(LEE)}"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_MULTIPART"


async def test_well_formed_multipart_still_uploads(api: Api) -> None:
    patient = await create_patient(api, as_=LEE)
    encounter = await create_encounter(api, patient["id"], as_=LEE)
    variables = {"input": {"encounterId": encounter["id"], "file": None}}
    response = await api.upload(queries.RECORDING_UPLOAD, variables, "input.file", tone_wav(1.0), as_=LEE)
    assert response.json()["data"]["recordingUpload"]["errors"] == [], response.text
