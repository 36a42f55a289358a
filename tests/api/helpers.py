from __future__ import annotations

from typing import Any

from tests.api import queries
from tests.conftest import Api, new_mrn


async def create_patient(api: Api, *, as_: str, given: str = "Ada", family: str = "Synthetic") -> dict[str, Any]:
    body = await api.gql(
        queries.PATIENT_CREATE,
        {"input": {"givenName": given, "familyName": family, "birthDate": "1970-01-31", "mrn": new_mrn()}},
        as_=as_,
    )
    payload = body["data"]["patientCreate"]
    assert payload["errors"] == [], payload
    return dict(payload["patient"])


async def create_encounter(api: Api, patient_id: str, *, as_: str, **extra: Any) -> dict[str, Any]:
    body = await api.gql(
        queries.ENCOUNTER_CREATE,
        {"input": {"patientId": patient_id, "reason": "follow-up", **extra}},
        as_=as_,
    )
    payload = body["data"]["encounterCreate"]
    assert payload["errors"] == [], payload
    return dict(payload["encounter"])


async def all_audit_events(api: Api, *, as_: str = "audit@demo.test") -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = None
    while True:
        body = await api.gql(queries.AUDIT_EVENTS, {"first": 100, "after": after}, as_=as_)
        connection = body["data"]["auditEvents"]
        events.extend(edge["node"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return events
        after = connection["pageInfo"]["endCursor"]
