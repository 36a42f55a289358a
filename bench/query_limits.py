"""How long the API takes to refuse a fragment fan-out (issue 13.1), through the real ASGI app.

    python bench/query_limits.py            # about ten seconds; prints fanout_refusal_ms=…

Fragments that each spread the next one twice, 40 levels (~1.6 KB, 2**40 leaf fields), sent signed in as
a clinician to `create_app` over httpx's ASGI transport (no network): the answer must be the
QUERY_TOO_COSTLY refusal. Prints the median and the slowest of the timed requests (after a warm-up), and
for scale the same for a small valid query. Database: AMBIENT_BENCH_DATABASE_URL, else PostgreSQL on
127.0.0.1:5432, else an embedded server (bench/database.py); a throwaway database, dropped after.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from api.app import create_app  # noqa: E402
from authz.tokens import DevTokens  # noqa: E402
from bench.database import bench_database  # noqa: E402
from core.secrets import dev_jwt_secret  # noqa: E402
from core.settings import Settings  # noqa: E402
from notes.bootstrap import close_services, load_role_assignments, open_services  # noqa: E402
from notes.identity.seed import seed_demo  # noqa: E402

LEVELS = 40
ROUNDS = 30
CLINICIAN = "dr.lee@demo.test"
SMALL = "{ me { user { email } roles } }"


def fan_out(levels: int) -> str:
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    return "query { ...F0 } " + " ".join([*fragments, f"fragment F{levels} on Query {{ __typename }}"])


async def _timed(client: httpx.AsyncClient, query: str, token: str, expect_code: str | None) -> float:
    start = time.perf_counter()
    response = await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    elapsed = (time.perf_counter() - start) * 1000
    errors = response.json().get("errors") or []
    codes = [error.get("extensions", {}).get("code") for error in errors]
    assert codes == ([expect_code] if expect_code else []), response.text
    return elapsed


async def _measure(client: httpx.AsyncClient, query: str, token: str, expect_code: str | None) -> list[float]:
    for _ in range(3):
        await _timed(client, query, token, expect_code)
    return [await _timed(client, query, token, expect_code) for _ in range(ROUNDS)]


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ambient-bench-home-") as home:
        async with bench_database() as url:
            settings = Settings(environment="development", home=Path(home), database_url=url)
            services = await open_services(settings)
            try:
                async with services.database.transaction() as session:
                    await seed_demo(session)
                await load_role_assignments(services.database, services.authorizer)
                token = DevTokens(dev_jwt_secret(settings)).issue(CLINICIAN, ttl_minutes=10)
                transport = httpx.ASGITransport(app=create_app(settings, services))
                async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                    query = fan_out(LEVELS)
                    refusals = await _measure(client, query, token, "QUERY_TOO_COSTLY")
                    small = await _measure(client, SMALL, token, None)
            finally:
                await close_services(services)
    print(f"fan-out: {LEVELS} levels, {len(query)} bytes, 2**{LEVELS} leaf fields; {ROUNDS} timed requests each")
    print(f"small_query_ms={statistics.median(small):.2f} (max {max(small):.2f})")
    print(f"fanout_refusal_ms={statistics.median(refusals):.2f} fanout_refusal_max_ms={max(refusals):.2f}")


if __name__ == "__main__":
    asyncio.run(main())
