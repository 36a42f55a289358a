"""Issue 13.8: text PostgreSQL refuses (NUL, unpaired surrogates) is a typed INVALID_INPUT naming the
field, not "Unexpected error.", wherever it enters: mutation inputs, nested lists, query arguments."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api import queries
from tests.api.helpers import create_patient
from tests.conftest import Api, new_mrn

LEE = "dr.lee@demo.test"
UNSTORABLE = ["Ada\x00", "\ud800Ada", "Ada\udfff"]


def _patient(**overrides: str) -> dict[str, str]:
    return {"givenName": "Ada", "familyName": "Synthetic", "birthDate": "1970-01-31", "mrn": new_mrn()} | overrides


async def _gql(api: Api, query: str, variables: dict[str, Any], *, as_: str | None = LEE) -> dict[str, Any]:
    """As a client would send it: JSON escapes (an unpaired surrogate is only expressible as one)."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {api.token(as_)}"} if as_ else {})
    body = json.dumps({"query": query, "variables": variables})  # ensure_ascii: "\ud800", "\u0000"
    response = await api.client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.parametrize("text", UNSTORABLE)
async def test_unstorable_text_in_a_mutation_input_is_a_payload_error(api: Api, text: str) -> None:
    body = await _gql(api, queries.PATIENT_CREATE, {"input": _patient(familyName=text)})
    payload = body["data"]["patientCreate"]
    assert "errors" not in body, body
    assert payload["patient"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "familyName")
    listed = await api.gql(queries.PATIENTS, {"first": 5}, as_=LEE)
    assert listed["data"]["patients"]["edges"] == []  # nothing stored


async def test_unstorable_text_in_a_literal_is_refused_too(api: Api) -> None:
    literal = 'mutation { encounterCreate(input: {patientId: "x", reason: "pain\\u0000"}) { errors { code field } } }'
    body = await api.gql(literal, as_=LEE)
    assert body["data"]["encounterCreate"]["errors"] == [{"code": "INVALID_INPUT", "field": "reason"}]


async def test_unstorable_text_in_a_nested_list_names_its_position(api: Api) -> None:
    update = "mutation($input: NoteUpdateInput!) { noteUpdate(input: $input) { note { id } errors { code field } } }"
    sections = [{"kind": "PLAN", "text": "fine"}, {"kind": "PLAN", "text": "bad\x00"}]
    variables = {
        "input": {"noteId": "00000000-0000-0000-0000-000000000000", "expectedVersion": 1, "sections": sections}
    }
    payload = (await _gql(api, update, variables))["data"]["noteUpdate"]
    assert payload == {"note": None, "errors": [{"code": "INVALID_INPUT", "field": "sections.1.text"}]}


@pytest.mark.parametrize("text", UNSTORABLE)
async def test_unstorable_text_in_a_query_argument_is_a_coded_error(api: Api, text: str) -> None:
    await create_patient(api, as_=LEE)
    body = await _gql(api, queries.PATIENTS, {"search": text})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": "search"}
    assert error["path"] == ["patients"] and "Unexpected" not in error["message"]


async def test_unauthenticated_caller_is_told_that_first(api: Api) -> None:
    body = await _gql(api, queries.PATIENT_CREATE, {"input": _patient(familyName="Ada\x00")}, as_=None)
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
