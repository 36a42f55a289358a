"""The framework reference for bench/api.py: plain strawberry on Starlette + asyncpg answering the
single-encounter query with no authorization, no row scoping and no audit.

    python bench/_strawberry.py --port 8200 --dsn postgresql://...

It does the least work strawberry allows for `encounter(id) { id status patient { id } recordings { id } }`:
strawberry's own ParserCache and ValidationCache, one round trip to the database (the encounter row and its
recording ids in one statement), plain dataclass fields for everything below the root. Served by uvicorn
as `ambient serve` and bench/_bare.py are (one process, uvloop + httptools, no access log). Its
throughput over the bare endpoint's is the ceiling of any strawberry read path on this machine: the
gap between it and ours is what authorization, scoping and audit cost; the gap between it and the bare
endpoint is GraphQL execution itself.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import asyncpg
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script by bench/api.py

from bench._bare import pool_lifespan, serve

_POOL: dict[str, asyncpg.Pool] = {}
_ENCOUNTER = (
    "SELECT e.id, e.status, e.patient_id,"
    " ARRAY(SELECT r.id FROM recordings r WHERE r.encounter_id = e.id ORDER BY r.id) AS recording_ids"
    " FROM encounters e WHERE e.id = $1"
)


@strawberry.type
class Patient:
    id: strawberry.ID


@strawberry.type
class Recording:
    id: strawberry.ID


@strawberry.type
class Encounter:
    id: strawberry.ID
    status: str
    patient: Patient
    recordings: list[Recording]


@strawberry.type
class Query:
    @strawberry.field
    async def encounter(self, info: Info, id: strawberry.ID) -> Encounter | None:
        row = await _POOL["pool"].fetchrow(_ENCOUNTER, uuid.UUID(str(id)))
        if row is None:
            return None
        return Encounter(
            id=strawberry.ID(str(row["id"])),
            status=row["status"],
            patient=Patient(id=strawberry.ID(str(row["patient_id"]))),
            recordings=[Recording(id=strawberry.ID(str(r))) for r in row["recording_ids"]],
        )


def create_app(dsn: str) -> Starlette:
    # Factories, as strawberry asks; both caches are module-level per maxsize, so they survive requests.
    schema = strawberry.Schema(
        query=Query, extensions=[lambda: ParserCache(maxsize=128), lambda: ValidationCache(maxsize=128)]
    )

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    graphql = GraphQL(schema, graphql_ide=None)
    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)],
        lifespan=pool_lifespan(dsn, _POOL),
    )


if __name__ == "__main__":
    serve(create_app)
