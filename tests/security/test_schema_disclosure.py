"""Issue 13.2: outside development the API spells out nothing of its schema, and every error before
execution says what kind it is in `extensions.code`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import queries
from tests.conftest import Api, new_mrn

LEE = "dr.lee@demo.test"
TYPO = "{ patiens { edges { node { id } } } }"


def _codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


async def test_no_field_suggestions_in_production(production_api: Api, api: Api) -> None:
    body = await production_api.gql(TYPO, as_=LEE)
    assert "Did you mean" not in str(body)
    assert _codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean 'patient' or 'patients'?" in str(await api.gql(TYPO, as_=LEE))  # kept in development


async def test_no_input_suggestions_in_production(production_api: Api) -> None:
    """Variable coercion suggests too: "Did you mean 'ARCHIVED'?" lists enum values nobody asked for."""
    misspelt = {"givenNam": "Ada", "familyName": "Synthetic", "birthDate": "1970-01-31", "mrn": new_mrn()}
    body = await production_api.gql(queries.PATIENT_CREATE, {"input": misspelt}, as_=LEE)
    assert body["errors"] and "Did you mean" not in str(body)
    by_status = "query($s: EncounterStatus) { encounters(status: $s) { edges { node { id } } } }"
    body = await production_api.gql(by_status, {"s": "RECORDD"}, as_=LEE)
    assert body["errors"] and "Did you mean" not in str(body) and "RECORDED" not in str(body)
    body = await production_api.gql("{ encounters(status: RECORDD) { edges { node { id } } } }", as_=LEE)
    assert body["errors"] and "Did you mean" not in str(body) and "RECORDED" not in str(body)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ me { roles }", "GRAPHQL_PARSE_FAILED"),
        ("query { me { roles } } fragment", "GRAPHQL_PARSE_FAILED"),
        ("{ me { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query($x: Int) { me { roles } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ me }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_parse_and_validation_errors_have_codes(api: Api, query: str, code: str) -> None:
    body = await api.gql(query, as_=LEE)
    assert body["errors"] and set(_codes(body)) == {code}, body
    assert all(error["locations"] for error in body["errors"])


async def test_unauthenticated_request_learns_nothing_in_production(production_api: Api) -> None:
    """Valid, misspelt, unparsable and introspection queries get one and the same answer without a token."""
    answers = [
        (await production_api.client.post("/graphql", json={"query": query}, headers=headers)).json()
        for query in ("{ me { roles } }", TYPO, "{ patients(", "{ __schema { types { name } } }")
        for headers in ({}, {"Authorization": "Bearer not-a-token"})
    ]
    anonymous = {"errors": [{"message": "Authentication required.", "extensions": {"code": "UNAUTHENTICATED"}}]}
    assert answers[0::2] == [anonymous] * 4
    assert len({str(answer) for answer in answers[1::2]}) == 1
    assert _codes(answers[1]) == ["UNAUTHENTICATED"]
