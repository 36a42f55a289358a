"""The baseline for bench/api.py: Starlette + asyncpg reading the same rows with no GraphQL, no
authorization, no scoping and no audit. Served by uvicorn exactly as `ambient serve` serves (one
process, uvloop + httptools, no access log), so the difference is our request path alone.

    python bench/_bare.py --port 8100 --dsn postgresql://...

Three routes mirror the three benchmark queries:
    POST /encounter   {"id"}  one encounter row (the headline comparison)
    POST /encounters  {"clinician", "organization"}  a clinician's first 100 encounters, with patient and
                      recording ids
    POST /deep        {"id"}  encounter → patient → the patient's encounters → their recordings
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _json(value: Any) -> Response:
    return Response(json.dumps(value, separators=(",", ":")), media_type="application/json")


def pool_lifespan(dsn: str, state: dict[str, asyncpg.Pool]) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the 10-connection pool the reference servers read through, in `state["pool"]`."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
        yield
        await state["pool"].close()

    return lifespan


def serve(create_app: Callable[[str], Starlette]) -> None:
    """`--port N --dsn URL`: serve the app as `ambient serve` is served (uvicorn, one process, no access log)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(args.dsn), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


def create_app(dsn: str) -> Starlette:
    state: dict[str, asyncpg.Pool] = {}

    async def encounter(request: Request) -> Response:
        key = uuid.UUID((await request.json())["id"])
        row = await state["pool"].fetchrow("SELECT id, status, patient_id FROM encounters WHERE id = $1", key)
        if row is None:
            return _json({"data": {"encounter": None}})
        return _json(
            {
                "data": {
                    "encounter": {
                        "id": str(row["id"]),
                        "status": row["status"],
                        "patient": {"id": str(row["patient_id"])},
                    }
                }
            }
        )

    async def encounters(request: Request) -> Response:
        body = await request.json()
        async with state["pool"].acquire() as connection:
            rows = await connection.fetch(
                "SELECT id, status, patient_id FROM encounters WHERE organization_id = $1 AND clinician_id = $2"
                " ORDER BY id LIMIT 100",
                uuid.UUID(body["organization"]),
                uuid.UUID(body["clinician"]),
            )
            ids = [row["id"] for row in rows]
            recordings = await connection.fetch(
                "SELECT id, encounter_id FROM recordings WHERE encounter_id = ANY($1::uuid[]) ORDER BY id", ids
            )
        by_encounter: dict[uuid.UUID, list[dict[str, str]]] = {}
        for recording in recordings:
            by_encounter.setdefault(recording["encounter_id"], []).append({"id": str(recording["id"])})
        edges = [
            {
                "node": {
                    "id": str(row["id"]),
                    "patient": {"id": str(row["patient_id"])},
                    "recordings": by_encounter.get(row["id"], []),
                }
            }
            for row in rows
        ]
        return _json({"data": {"encounters": {"edges": edges}}})

    async def deep(request: Request) -> Response:
        key = uuid.UUID((await request.json())["id"])
        async with state["pool"].acquire() as connection:
            row = await connection.fetchrow("SELECT id, patient_id FROM encounters WHERE id = $1", key)
            if row is None:
                return _json({"data": {"encounter": None}})
            siblings = await connection.fetch(
                "SELECT id FROM encounters WHERE patient_id = $1 ORDER BY id DESC LIMIT 20", row["patient_id"]
            )
            ids = [sibling["id"] for sibling in siblings]
            recordings = await connection.fetch(
                "SELECT id, encounter_id FROM recordings WHERE encounter_id = ANY($1::uuid[]) ORDER BY id", ids
            )
        by_encounter: dict[uuid.UUID, list[dict[str, str]]] = {}
        for recording in recordings:
            by_encounter.setdefault(recording["encounter_id"], []).append({"id": str(recording["id"])})
        patient = {
            "id": str(row["patient_id"]),
            "encounters": {
                "edges": [{"node": {"id": str(i), "recordings": by_encounter.get(i, [])}} for i in ids],
            },
        }
        return _json({"data": {"encounter": {"id": str(row["id"]), "patient": patient}}})

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    return Starlette(
        routes=[
            Route("/encounter", encounter, methods=["POST"]),
            Route("/encounters", encounters, methods=["POST"]),
            Route("/deep", deep, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=pool_lifespan(dsn, state),
    )


if __name__ == "__main__":
    serve(create_app)
