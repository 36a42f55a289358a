"""Live-update latency: from an event's commit to its delivery on subscribers' websockets.

    python bench/live.py                          # 1, 50 and 200 subscribers, 40 events each
    python bench/live.py --subscribers 1,20,100 --events 60

A real `ambient serve` (no worker) runs on loopback against a throwaway database. Subscribers are
graphql-transport-ws clients in this process, all watching one encounter (the worst case for fan-out:
every event goes to every subscriber, each authorized per event). The publisher commits events the way
the pipeline does (event row + NOTIFY in one transaction) and notes the time right after COMMIT returns;
each subscriber notes when the event arrives. Same machine, same clock.

Prints p50/p99 latency per subscriber count and the growth from 1 to the largest count, which must be
well below linear (a linear system would take N times longer to reach the last of N subscribers).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.database import bench_database  # noqa: E402
from core.settings import LlmSettings, Settings  # noqa: E402
from tests.support.graphql_ws import GraphQLSocket  # noqa: E402
from tests.support.server import running_server  # noqa: E402

EVENTS = "subscription($id: ID!) { encounterEvents(encounterId: $id) { id kind } }"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def setup(settings: Settings) -> tuple[uuid.UUID, uuid.UUID, str]:
    from datetime import date

    from authz.principal import Principal
    from authz.tokens import DevTokens
    from core.secrets import dev_jwt_secret
    from notes.access import Access
    from notes.bootstrap import close_services, open_services
    from notes.encounters.service import create_encounter
    from notes.identity.repository import IdentityRepository
    from notes.patients.service import NewPatient, create_patient

    services = await open_services(settings)
    try:
        async with services.database.session() as session:
            identity = IdentityRepository(session)
            lee = await identity.user_by_email("dr.lee@demo.test")
            assert lee is not None
            organization = next(org for org, _ in await identity.memberships(lee.id) if org.slug == "demo")
        access = Access(
            Principal("user", lee.id, lee.email, organization.id, frozenset({"clinician"})), services.authorizer
        )
        patient = await create_patient(services.database, access, NewPatient("Live", "Bench", date(1980, 1, 1), "LB-1"))
        encounter = await create_encounter(services.database, access, patient_id=patient.id, reason="bench")
        await services.audit_writer.write(access.take_pending())
    finally:
        await close_services(services)
    token = DevTokens(dev_jwt_secret(settings)).issue("dr.lee@demo.test", ttl_minutes=60)
    return encounter.id, organization.id, token


async def publish_events(
    url: str, encounter_id: uuid.UUID, organization_id: uuid.UUID, count: int, gap_s: float
) -> dict[int, float]:
    from core.db import Database, create_engine
    from core.settings import DatabaseSettings
    from notes.events.kinds import EventKind
    from notes.events.publisher import publish

    database = Database.for_engine(create_engine(url, DatabaseSettings(pool_size=2)))
    committed: dict[int, float] = {}
    try:
        for n in range(count):
            async with database.transaction() as session:
                event_id = await publish(
                    session,
                    encounter_id=encounter_id,
                    organization_id=organization_id,
                    kind=EventKind.FINDINGS_UPDATED,
                    payload={"problems": n, "medications": 0},
                )
            committed[event_id] = time.perf_counter()
            await asyncio.sleep(gap_s)
    finally:
        await database.close()
    return committed


async def subscriber(
    ws_url: str,
    token: str,
    encounter_id: uuid.UUID,
    ready: asyncio.Event,
    expected: int,
    arrivals: list[tuple[int, float]],
) -> None:
    socket = await GraphQLSocket.connect(ws_url, token)
    try:
        assert await socket.acknowledged()
        await socket.subscribe(EVENTS, {"id": str(encounter_id)})
        ready.set()
        for _ in range(expected):
            message = await socket.receive(60)
            arrived = time.perf_counter()
            event = message["payload"]["data"]["encounterEvents"]
            arrivals.append((int(event["id"]), arrived))
    finally:
        await socket.close()


async def measure(
    ws_url: str, db_url: str, token: str, ids: tuple[uuid.UUID, uuid.UUID], subscribers: int, events: int
) -> list[float]:
    encounter_id, organization_id = ids
    arrivals: list[tuple[int, float]] = []
    readiness = [asyncio.Event() for _ in range(subscribers)]
    tasks = [
        asyncio.create_task(subscriber(ws_url, token, encounter_id, ready, events, arrivals)) for ready in readiness
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readiness)), timeout=120)
    await asyncio.sleep(1.0)  # every subscription registered with the server's hub
    committed = await publish_events(db_url, encounter_id, organization_id, events, gap_s=0.05)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    return [(arrived - committed[event_id]) * 1000 for event_id, arrived in arrivals if event_id in committed]


async def main_async(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.subscribers.split(",")]
    async with bench_database() as url:
        with tempfile.TemporaryDirectory(prefix="ambient-bench-live-") as tmp:
            settings = Settings(home=Path(tmp) / "home", database_url=url, llm=LlmSettings(enabled=False))
            ids_and_token = await setup(settings)
            encounter_id, organization_id, token = ids_and_token
            with running_server(
                settings, Path(tmp) / "server.log", "--no-worker", AMBIENT_LOG_LEVEL="WARNING"
            ) as server:
                rows = []
                for count in counts:
                    latencies = await measure(
                        server.ws, url, token, (encounter_id, organization_id), count, args.events
                    )
                    rows.append((count, statistics.median(latencies), percentile(latencies, 0.99), len(latencies)))
                    print(
                        f"subscribers={count:4d}  deliveries={len(latencies):6d}  "
                        f"p50={rows[-1][1]:7.2f} ms  p99={rows[-1][2]:7.2f} ms",
                        flush=True,
                    )
    first, last = rows[0], rows[-1]
    growth = last[1] / first[1]
    print(f"p50 growth {first[0]} -> {last[0]} subscribers: x{growth:.1f} (linear would be x{last[0] / first[0]:.0f})")
    print(
        f"latency_p50_ms={';'.join(f'{c}:{p50:.2f}' for c, p50, _, _ in rows)} "
        f"latency_p99_ms={';'.join(f'{c}:{p99:.2f}' for c, _, p99, _ in rows)} "
        f"sublinear={'yes' if growth < last[0] / first[0] else 'no'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", default="1,50,200")
    parser.add_argument("--events", type=int, default=40)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
