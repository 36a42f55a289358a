"""Nested fields cost one query per type, however many rows: DataLoaders batch them.

Statements are counted where they run: SQLAlchemy's `before_cursor_execute` on the engine (sessions,
transactions) and asyncpg's query logger on the read pool (the precompiled hot reads, which bypass
SQLAlchemy's execution layer). The audit append that every read request makes is counted separately:
it is one group-committed statement shared with other requests, not a per-row cost.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import event, insert, select

from core.db import Database
from core.ids import new_id
from notes.bootstrap import Services
from notes.encounters.models import Encounter
from notes.identity.models import Organization, User
from notes.patients.models import Patient
from notes.recordings.models import Recording
from tests.conftest import Api

LEE = "dr.lee@demo.test"
SINGLE = "query($id: ID!) { encounter(id: $id) { id status patient { id } recordings { id } } }"
LIST = "{ encounters(first: 100) { edges { node { id status patient { id } recordings { id } } } } }"
DEEP = (
    "query($id: ID!) { encounter(id: $id) { id patient { id encounters(first: 20) "
    "{ edges { node { id recordings { id } } } } } } }"
)


@dataclass
class Statements:
    reads: list[str] = field(default_factory=list)
    audit: list[str] = field(default_factory=list)

    def add(self, sql: str) -> None:
        if "typeinfo" in sql or "set_config('jit'" in sql:
            return  # asyncpg's type introspection, once per connection and type, not per request
        (self.audit if "audit_events" in sql or "pg_advisory_xact_lock" in sql else self.reads).append(sql)


@contextmanager
def counting(database: Database) -> Iterator[Statements]:
    statements = Statements()

    def on_engine(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.add(sql)

    def on_read_pool(query: Any) -> None:
        statements.add(query.query)

    event.listen(database.engine.sync_engine, "before_cursor_execute", on_engine)
    database.add_query_logger(on_read_pool)
    try:
        yield statements
    finally:
        database.remove_query_logger(on_read_pool)
        event.remove(database.engine.sync_engine, "before_cursor_execute", on_engine)


async def seed(database: Database, *, patients: int, encounters_each: int, recordings_each: int) -> list[uuid.UUID]:
    """dr.lee's patients and encounters with recordings, straight into the tables (synthetic values)."""
    async with database.transaction() as session:
        organization = await session.scalar(select(Organization.id).where(Organization.slug == "demo"))
        lee = await session.scalar(select(User.id).where(User.email == LEE))
        encounter_ids = []
        for _ in range(patients):
            patient = new_id()
            await session.execute(
                insert(Patient).values(
                    id=patient,
                    organization_id=organization,
                    mrn=f"Q-{secrets.token_hex(5)}",
                    given_name="Synthetic",
                    family_name=secrets.token_hex(4),
                    birth_date=date(1970, 1, 1),
                )
            )
            for _ in range(encounters_each):
                encounter = new_id()
                encounter_ids.append(encounter)
                await session.execute(
                    insert(Encounter).values(
                        id=encounter,
                        organization_id=organization,
                        patient_id=patient,
                        clinician_id=lee,
                        status="RECORDED",
                        reason="follow-up",
                    )
                )
                for _ in range(recordings_each):
                    recording = new_id()
                    await session.execute(
                        insert(Recording).values(
                            id=recording,
                            encounter_id=encounter,
                            organization_id=organization,
                            storage_key=f"test/{recording}",
                            key_id="k1",
                            key_nonce=secrets.token_bytes(12),
                            wrapped_key=secrets.token_bytes(48),
                            sha256=secrets.token_hex(32),
                            byte_size=1000,
                            content_type="audio/wav",
                            duration_seconds=1.0,
                            channels=1,
                            sample_rate=16000,
                        )
                    )
    return encounter_ids


async def cost(api: Api, database: Database, query: str, variables: dict[str, Any]) -> tuple[Statements, Any]:
    token = api.token(LEE)
    await api.gql(query, variables, bearer=token)  # warm: the caller's principal is resolved and cached
    with counting(database) as statements:
        body = await api.gql(query, variables, bearer=token)
    assert "errors" not in body, body
    return statements, body["data"]


async def test_an_encounter_with_its_patient_and_recordings_costs_three_reads(api: Api, services: Services) -> None:
    [small] = await seed(services.database, patients=1, encounters_each=1, recordings_each=1)
    [large] = await seed(services.database, patients=1, encounters_each=1, recordings_each=12)
    few, data = await cost(api, services.database, SINGLE, {"id": str(small)})
    assert len(data["encounter"]["recordings"]) == 1
    many, data = await cost(api, services.database, SINGLE, {"id": str(large)})
    assert len(data["encounter"]["recordings"]) == 12
    # encounters, patients, recordings: one statement each
    assert len(few.reads) == len(many.reads) == 3, many.reads
    assert len(few.audit) <= 3 and len(many.audit) <= 3


async def test_a_page_of_encounters_costs_three_reads_for_one_row_or_a_hundred(api: Api, services: Services) -> None:
    await seed(services.database, patients=1, encounters_each=1, recordings_each=1)
    one, data = await cost(api, services.database, LIST, {})
    assert len(data["encounters"]["edges"]) == 1
    await seed(services.database, patients=25, encounters_each=4, recordings_each=2)
    hundred, data = await cost(api, services.database, LIST, {})
    edges = data["encounters"]["edges"]
    assert len(edges) == 100
    assert all(edge["node"]["patient"] for edge in edges)
    assert len(one.reads) == len(hundred.reads) == 3, hundred.reads


async def test_a_deep_query_costs_one_read_per_level(api: Api, services: Services) -> None:
    [small] = await seed(services.database, patients=1, encounters_each=1, recordings_each=1)
    large = (await seed(services.database, patients=1, encounters_each=15, recordings_each=3))[0]
    few, data = await cost(api, services.database, DEEP, {"id": str(small)})
    assert len(data["encounter"]["patient"]["encounters"]["edges"]) == 1
    many, data = await cost(api, services.database, DEEP, {"id": str(large)})
    siblings = data["encounter"]["patient"]["encounters"]["edges"]
    assert len(siblings) == 15
    assert all(len(edge["node"]["recordings"]) == 3 for edge in siblings)
    # encounter, its patient, the patient's encounters, their recordings
    assert len(few.reads) == len(many.reads) == 4, many.reads
