"""Issue 13.1: small queries that cost exponential work are refused before execution, with a typed code."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

LEE = "dr.lee@demo.test"


def fan_out(levels: int, leaf: str = "__typename") -> str:
    """Each fragment spreads the next one twice: 2**levels leaf fields in about 40 bytes a level."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    return "query { ...F0 } " + " ".join([*fragments, f"fragment F{levels} on Query {{ {leaf} }}"])


def _refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert "data" not in body or body["data"] is None, body
    [error] = body["errors"]
    assert error["locations"], error
    return dict(error)


async def test_fragment_fan_out_is_refused(api: Api) -> None:
    query = fan_out(40)
    assert len(query) < 2_000  # under the request and token limits: only the cost limit stops it
    # Before the fix this request never returned (2**40 fragment walks in the depth limiter).
    error = _refusal(await api.gql(query, as_=LEE))
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_fragment_fan_out_of_aliases_is_refused(api: Api) -> None:
    body = await api.gql(fan_out(40, leaf="a: __typename"), as_=LEE)
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"QUERY_TOO_COSTLY", "TOO_MANY_ALIASES"}
    assert all(error["locations"] for error in body["errors"])


async def test_deep_query_is_refused_with_code_and_location(api: Api) -> None:
    levels = "encounters(first: 1) { edges { node { patient { " * 3  # the id below sits 12 fields deep
    too_deep = "query Deep { " + levels + "id" + " } } } }" * 3 + " }"
    error = _refusal(await api.gql(too_deep, as_=LEE))
    assert error["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert error["message"] == "'Deep' exceeds maximum operation depth of 10"


async def test_many_aliases_are_refused_with_code_and_location(api: Api) -> None:
    aliases = "query { " + " ".join(f"a{i}: me {{ roles }}" for i in range(16)) + " }"
    error = _refusal(await api.gql(aliases, as_=LEE))
    assert error["extensions"]["code"] == "TOO_MANY_ALIASES"
    assert error["message"] == "16 aliases found. Allowed: 15"


async def test_nested_large_pages_are_refused_by_cost(api: Api) -> None:
    """Shallow and alias-free, but 100 × 100 encounters: the cost counts each page's `first`."""
    nested = "{ patients(first: 100) { edges { node { encounters(first: %d) { edges { node { id status } } } } } } }"
    error = _refusal(await api.gql(nested % 100, as_=LEE))
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "errors" not in await api.gql(nested % 5, as_=LEE)
