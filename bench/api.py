"""API read path vs a bare endpoint: throughput, p99, the share of authorization, and Casbin's scaling.

    python bench/api.py                 # no configuration; about five minutes on 2 cores
    python bench/api.py --quick         # fewer, shorter rounds (a smoke run)

What it does, in one run on one machine:
1. creates a throwaway database (AMBIENT_BENCH_DATABASE_URL, else PostgreSQL on 127.0.0.1:5432, else an
   embedded server), applies the migrations and seeds it synthetically: several organizations, 1,000+
   staff (one Casbin role assignment each), 2,500 patients, 20,000+ encounters, recordings, care teams.
   Every name is a generated token; nothing resembles a person.
2. starts (a) bench/_bare.py, Starlette + asyncpg reading the rows with nothing else, (b) a real
   `ambient serve` (in-process worker on, LLM off, AMBIENT_BENCH_TIMINGS=1), and (c) for the single query
   only, bench/_strawberry.py: plain strawberry with its caches, no authorization, scoping or audit, one
   round trip to the database. (c) is the framework's own ceiling, printed as a reference line
   ("plain/bare", "ours/plain") so the gap to the bare endpoint can be split into GraphQL execution and
   what our read path adds. All on loopback, one process each, served by uvicorn the same way.
3. drives each with `wrk` (else bench/_load.py) in alternating rounds (bare, ours, plain, plain, ours, ...), for
   three queries signed in as several clinicians:
     single  encounter(id) { id status patient { id } recordings { id } }
     list    encounters(first: 100) { edges { node { id status patient { id } recordings { id } } } }
     deep    encounter(id) { patient { encounters { edges { node { recordings { id } } } } } }
   and prints the median over rounds of requests/s and p99 latency.
4. authz_share: the server (only with AMBIENT_BENCH_TIMINGS=1) adds the time spent in field
   authorization (PolicyExtension checks, Casbin decisions included) and its own CPU time to a response
   header; the bench reads both before and after each round: share = Δauthorization / ΔCPU.
5. policy_scaling: the server's Authorizer in this process with 100 policies (the reviewed policy plus
   role assignments) and with 10,000 (plus 5,000 more rules — standard roles on more resources,
   organization roles with wildcards — and ~5,000 role assignments), the same request mix (allowed,
   denied by role, other organization, unknown subject, service principals), timed per decision with
   the decision memo OFF, so the number is the cost of a cold decision rather than of a dictionary hit.
   Alternating short rounds, medians. Plain Casbin enforce() on the same mix is printed for reference.
6. drops the database, stops the servers. The last line is the summary the issue asks for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.database import bench_database  # noqa: E402
from core.db import libpq_url  # noqa: E402
from core.ids import new_id  # noqa: E402

SINGLE = "query($id: ID!) { encounter(id: $id) { id status patient { id } recordings { id } } }"
LIST = "{ encounters(first: 100) { edges { node { id status patient { id } recordings { id } } } } }"
DEEP = (
    "query($id: ID!) { encounter(id: $id) { id patient { id encounters(first: 20) "
    "{ edges { node { id recordings { id } } } } } } }"
)
TIMINGS_HEADER = "x-ambient-bench-timings"
ORGANIZATIONS = 5
STAFF_PER_ORG = {"clinician": 150, "scribe": 40, "compliance": 5, "admin": 5}
PATIENTS_PER_ORG = 500
ENCOUNTERS_PER_ORG = 4_000
BENCH_CLINICIANS = 8  # signed in during the load, spread over the organizations
BENCH_ENCOUNTERS_EACH = 150  # over 15 patients each: lists of 100 and patients with ~10 visits
STATUSES = ["CREATED", "RECORDED", "TRANSCRIBED", "EXTRACTED", "DRAFTED", "SIGNED"]


def token(rng: random.Random, length: int = 8) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(length)).capitalize()


# -- the database ----------------------------------------------------------------------------------------------
@dataclass
class Clinician:
    id: uuid.UUID
    email: str
    organization_id: uuid.UUID
    encounters: list[uuid.UUID] = field(default_factory=list)


@dataclass
class Seeded:
    clinicians: list[Clinician]
    counts: dict[str, int]


async def seed(url: str, rng: random.Random) -> Seeded:
    """Synthetic rows through COPY: a realistic volume in a few seconds."""
    rows: dict[str, list[tuple[Any, ...]]] = {
        name: []
        for name in (
            "organizations",
            "users",
            "memberships",
            "scribe_assignments",
            "patients",
            "encounters",
            "encounter_care_team",
            "recordings",
        )
    }
    bench: list[Clinician] = []
    user_number = 0
    for org_index in range(ORGANIZATIONS):
        org = new_id()
        rows["organizations"].append((org, f"bench-{org_index}", f"Organization {token(rng)}"))
        staff: dict[str, list[uuid.UUID]] = {}
        for role, count in STAFF_PER_ORG.items():
            for _ in range(count):
                user_number += 1
                user, email = new_id(), f"staff{user_number:05d}@bench.test"
                rows["users"].append((user, email, f"{token(rng)} {token(rng)}", True))
                rows["memberships"].append((new_id(), user, org, role))
                staff.setdefault(role, []).append(user)
                if role == "clinician" and len(bench) < BENCH_CLINICIANS and len(staff[role]) <= 2:
                    bench.append(Clinician(user, email, org))
        for scribe in staff["scribe"]:
            for assigned in rng.sample(staff["clinician"], 3):
                rows["scribe_assignments"].append((org, scribe, assigned))
        patients: list[uuid.UUID] = []
        for _ in range(PATIENTS_PER_ORG):
            patient = new_id()
            birth = date(1930, 1, 1) + timedelta(days=rng.randrange(90 * 365))
            mrn = f"B-{org_index}-{len(patients):06d}"
            rows["patients"].append((patient, org, mrn, token(rng), token(rng), birth))
            patients.append(patient)
        mine = [c for c in bench if c.id in staff["clinician"]]
        plan: list[tuple[uuid.UUID, uuid.UUID, Clinician | None]] = [
            (rng.choice(patients), rng.choice(staff["clinician"]), None) for _ in range(ENCOUNTERS_PER_ORG)
        ]
        for clinician in mine:
            own_patients = rng.sample(patients, 15)
            plan += [(rng.choice(own_patients), clinician.id, clinician) for _ in range(BENCH_ENCOUNTERS_EACH)]
        rng.shuffle(plan)
        for patient, clinician_id, owner in plan:
            encounter = new_id()
            rows["encounters"].append((encounter, org, patient, clinician_id, rng.choice(STATUSES), token(rng, 12)))
            if owner is not None:
                owner.encounters.append(encounter)
            recordings = 2 if owner is not None else rng.choice((0, 0, 1, 2))
            for _ in range(recordings):
                recording = new_id()
                rows["recordings"].append(
                    (
                        recording,
                        encounter,
                        org,
                        f"bench/{recording}",
                        "k1",
                        secrets.token_bytes(12),
                        secrets.token_bytes(48),
                        secrets.token_hex(32),
                        rng.randrange(10_000, 5_000_000),
                        "audio/wav",
                        rng.uniform(30, 1800),
                        1,
                        16_000,
                    )
                )
            if rng.random() < 0.1:
                rows["encounter_care_team"].append((encounter, rng.choice(staff["clinician"])))
    columns = {
        "organizations": ["id", "slug", "name"],
        "users": ["id", "email", "display_name", "active"],
        "memberships": ["id", "user_id", "organization_id", "role"],
        "scribe_assignments": ["organization_id", "scribe_id", "clinician_id"],
        "patients": ["id", "organization_id", "mrn", "given_name", "family_name", "birth_date"],
        "encounters": ["id", "organization_id", "patient_id", "clinician_id", "status", "reason"],
        "encounter_care_team": ["encounter_id", "user_id"],
        "recordings": [
            "id",
            "encounter_id",
            "organization_id",
            "storage_key",
            "key_id",
            "key_nonce",
            "wrapped_key",
            "sha256",
            "byte_size",
            "content_type",
            "duration_seconds",
            "channels",
            "sample_rate",
        ],
    }
    connection = await asyncpg.connect(libpq_url(url))
    try:
        async with connection.transaction():
            for table, records in rows.items():
                if table == "encounter_care_team":  # a clinician may be drawn twice for one encounter
                    records = list(dict.fromkeys(records))
                await connection.copy_records_to_table(table, records=records, columns=columns[table])
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return Seeded(bench, {table: len(records) for table, records in rows.items()})


async def casbin_policies(url: str) -> int:
    """What the server's Authorizer holds for this database: the reviewed policy plus one link per role
    assignment (every membership, the demo's included, and the pipeline services)."""
    from authz.authorizer import Authorizer, RoleAssignment
    from notes.bootstrap import SERVICE_ASSIGNMENTS

    connection = await asyncpg.connect(libpq_url(url))
    try:
        rows = await connection.fetch("SELECT user_id, role, organization_id FROM memberships")
    finally:
        await connection.close()
    authorizer = Authorizer()
    authorizer.replace_assignments(
        [RoleAssignment(f"user:{r['user_id']}", r["role"], f"org:{r['organization_id']}") for r in rows]
        + SERVICE_ASSIGNMENTS
    )
    return authorizer.policy_count


# -- servers ------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], log: Path, health: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(health, timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[1:3]} did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- load -----------------------------------------------------------------------------------------------------
Request = tuple[str, str, dict[str, str], str]


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _lua(requests: list[Request]) -> str:
    lines = ["local reqs = {}", "local n = 0", "local i = 0", "init = function(args)"]
    for method, path, headers, body in requests:
        header_table = ", ".join(f'["{k}"] = [==[{v}]==]' for k, v in headers.items())
        lines.append(f'  reqs[#reqs + 1] = wrk.format("{method}", "{path}", {{{header_table}}}, [==[{body}]==])')
    lines += [
        "  n = #reqs",
        "end",
        "request = function()",
        "  i = i % n + 1",
        "  return reqs[i]",
        "end",
        "done = function(summary, latency, requests)",
        "  local e = summary.errors",
        '  io.write(string.format("BENCHJSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"errors\\": %d, '
        '\\"p50_us\\": %d, \\"p99_us\\": %d}\\n", summary.requests, summary.duration, '
        "e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(99)))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def run_load(port: int, requests: list[Request], *, connections: int, duration: float, scratch: Path) -> Result:
    if shutil.which("wrk"):
        script = scratch / f"load-{secrets.token_hex(4)}.lua"
        script.write_text(_lua(requests))
        url = f"http://127.0.0.1:{port}"
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{duration:.0f}s", "--timeout", "10s", "-s", str(script), url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        line = next(line for line in output.splitlines() if line.startswith("BENCHJSON "))
        data = json.loads(line.removeprefix("BENCHJSON "))
        return Result(
            rps=data["requests"] / (data["duration_us"] / 1e6),
            p50_ms=data["p50_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            errors=data["errors"],
        )
    spec = scratch / f"load-{secrets.token_hex(4)}.json"
    spec.write_text(
        json.dumps(
            {
                "host": "127.0.0.1",
                "port": port,
                "connections": connections,
                "duration_s": duration,
                "requests": requests,
            }
        )
    )
    output = subprocess.run(
        [sys.executable, str(REPO / "bench" / "_load.py"), str(spec)], capture_output=True, text=True, check=True
    ).stdout
    data = json.loads(output.strip().splitlines()[-1])
    return Result(rps=data["rps"], p50_ms=data["p50_ms"], p99_ms=data["p99_ms"], errors=data["errors"])


# -- the scenarios ------------------------------------------------------------------------------------------
@dataclass
class Scenario:
    name: str
    ours: list[Request]
    bare: list[Request]
    rounds: int
    duration: float
    plain: list[Request] = field(default_factory=list)  # bench/_strawberry.py, the framework reference


def _ours(query: str, variables: dict[str, str], bearer: str) -> Request:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}
    return ("POST", "/graphql", headers, json.dumps({"query": query, "variables": variables}))


def _bare(path: str, body: dict[str, Any]) -> Request:
    return ("POST", path, {"Content-Type": "application/json"}, json.dumps(body))


def scenarios(seeded: Seeded, tokens: dict[str, str], rng: random.Random, quick: bool) -> list[Scenario]:
    single_ours, single_bare, single_plain, deep_ours, deep_bare, list_ours, list_bare = [], [], [], [], [], [], []
    for clinician in seeded.clinicians:
        bearer = tokens[clinician.email]
        for encounter in rng.sample(clinician.encounters, 20):
            single_ours.append(_ours(SINGLE, {"id": str(encounter)}, bearer))
            single_bare.append(_bare("/encounter", {"id": str(encounter)}))
            single_plain.append(_bare("/graphql", {"query": SINGLE, "variables": {"id": str(encounter)}}))
        for encounter in rng.sample(clinician.encounters, 5):
            deep_ours.append(_ours(DEEP, {"id": str(encounter)}, bearer))
            deep_bare.append(_bare("/deep", {"id": str(encounter)}))
        list_ours.append(_ours(LIST, {}, bearer))
        list_bare.append(
            _bare("/encounters", {"clinician": str(clinician.id), "organization": str(clinician.organization_id)})
        )
    order = list(range(len(single_ours)))
    rng.shuffle(order)  # interleave clinicians, as concurrent users would
    single_ours, single_bare = [single_ours[i] for i in order], [single_bare[i] for i in order]
    single_plain = [single_plain[i] for i in order]
    main_rounds, other_rounds = (2, 1) if quick else (5, 3)
    main_duration, other_duration = (4.0, 3.0) if quick else (10.0, 6.0)
    return [
        Scenario("single", single_ours, single_bare, main_rounds, main_duration, single_plain),
        Scenario("list", list_ours, list_bare, other_rounds, other_duration),
        Scenario("deep", deep_ours, deep_bare, other_rounds, other_duration),
    ]


def check_answers(ours_port: int, scenario: Scenario) -> None:
    """One request of each kind must return data (a benchmark of errors would be meaningless)."""
    _, path, headers, body = scenario.ours[0]
    response = httpx.post(f"http://127.0.0.1:{ours_port}{path}", headers=headers, content=body, timeout=30)
    payload = response.json()
    if response.status_code != 200 or payload.get("errors") or not any(payload.get("data", {}).values()):
        raise RuntimeError(f"{scenario.name}: unexpected answer {response.status_code} {str(payload)[:300]}")


def read_timings(ours_port: int, request: Request) -> dict[str, float]:
    _, path, headers, body = request
    response = httpx.post(f"http://127.0.0.1:{ours_port}{path}", headers=headers, content=body, timeout=30)
    raw = response.headers.get(TIMINGS_HEADER, "")
    return {key: float(value) for key, _, value in (part.partition("=") for part in raw.split(";")) if value}


# -- policy scaling -------------------------------------------------------------------------------------------
def policy_scaling(rng: random.Random) -> dict[str, float]:
    from authz.authorizer import Authorizer, RoleAssignment
    from authz.principal import SERVICE_ROLES

    reviewed_file = REPO / "authz" / "policy.csv"
    reviewed = Authorizer().policy_count
    orgs = [f"org:{uuid.uuid4()}" for _ in range(ORGANIZATIONS)]
    roles = ["clinician"] * 15 + ["scribe"] * 4 + ["compliance", "admin"]
    services = [RoleAssignment(f"service:{name}", role, "*") for name, role in SERVICE_ROLES.items()]

    def people(count: int) -> list[RoleAssignment]:
        return [
            RoleAssignment(f"user:{uuid.UUID(int=n + 1)}", roles[n % len(roles)], orgs[n % len(orgs)])
            for n in range(count)
        ]

    def extra_rules(count: int) -> list[str]:
        """More rules: the standard roles on many more (literal) resources, and organization-specific
        roles, some with wildcards — so the 10,000 grow in rules as well as in role assignments."""
        lines = []
        for n in range(count):
            if n % 2 == 0:
                lines.append(f"p, role:{roles[n % len(roles)]}, *, form_{n}, read")
            else:
                lines.append(
                    f"p, role:custom_{n % 500}, {orgs[n % len(orgs)]}, report_{n}*, {('read', '*')[n % 3 == 0]}"
                )
        return lines

    scratch = Path(tempfile.mkdtemp(prefix="ambient-bench-policy-"))
    small_policy, large_policy = scratch / "small.csv", scratch / "large.csv"
    small_policy.write_text(reviewed_file.read_text())
    large_policy.write_text(reviewed_file.read_text() + "\n".join(extra_rules(5_000)) + "\n")
    small_people = people(100 - reviewed - len(services))
    large_people = people(10_000 - reviewed - 5_000 - len(services))  # a superset of the small set's subjects
    # The mix: subjects present in both sets, each asking for things it may and may not do, in its own
    # organization and in another; unknown subjects; pipeline services in every organization.
    asks = [
        ("encounter", "read"),
        ("patient", "read"),
        ("recording", "read"),
        ("note", "sign"),
        ("audit_event", "read"),
        ("care_team", "update"),
    ]
    mix: list[tuple[str, str, str, str]] = []
    for assignment in rng.sample(small_people, 20):
        for resource, action in asks:
            mix.append((assignment.subject, assignment.domain, resource, action))
        mix.append((assignment.subject, rng.choice([o for o in orgs if o != assignment.domain]), "patient", "read"))
    for _ in range(10):
        mix.append((f"user:{uuid.uuid4()}", rng.choice(orgs), "encounter", "read"))
    for service in services:
        mix.append((service.subject, rng.choice(orgs), "transcript", "read"))
        mix.append((service.subject, rng.choice(orgs), "note", "sign"))
    results: dict[str, float] = {}
    deciders = {}
    for label, assignment_set, policy_file in (
        ("100", small_people, small_policy),
        ("10000", large_people, large_policy),
    ):
        authorizer = Authorizer(policy_path=policy_file)
        authorizer.replace_assignments([*assignment_set, *services])
        results[f"policies_{label}"] = authorizer.policy_count
        deciders[label] = authorizer.decide  # the un-memoised decision (the memo would hide the scaling)
        results["denied_share"] = sum(1 for request in mix if not authorizer.decide(*request)) / len(mix)
    # Alternate the two in short rounds and keep each one's median: the machine is shared and noisy.
    samples: dict[str, list[float]] = {"100": [], "10000": []}
    for round_index in range(41):
        for label in ("100", "10000") if round_index % 2 == 0 else ("10000", "100"):
            decide = deciders[label]
            start = time.perf_counter_ns()
            for _ in range(5):
                for request in mix:
                    decide(*request)
            samples[label].append((time.perf_counter_ns() - start) / (5 * len(mix)))
    for label, values in samples.items():
        results[f"decision_ns_{label}"] = statistics.median(values)
    # For reference, what the index replaced: Casbin's enforce() on the same policies (after a warm-up
    # decision, which builds Casbin's role graph for the domains: seconds at 10,000).
    import casbin
    from casbin.util import key_match

    for label, assignment_set, policy_file in (
        ("100", small_people, small_policy),
        ("10000", large_people, large_policy),
    ):
        enforcer = casbin.Enforcer(str(REPO / "authz" / "model.conf"), str(policy_file))
        enforcer.add_named_domain_matching_func("g", key_match)
        enforcer.add_named_grouping_policies(
            "g", [[a.subject, f"role:{a.role}", a.domain] for a in [*assignment_set, *services]]
        )
        for domain in orgs:
            enforcer.enforce("user:warm-up", domain, "patient", "read")
        start = time.perf_counter_ns()
        for request in mix:
            enforcer.enforce(*request)
        results[f"casbin_ns_{label}"] = (time.perf_counter_ns() - start) / len(mix)
    shutil.rmtree(scratch, ignore_errors=True)
    results["policy_scaling"] = results["decision_ns_10000"] / results["decision_ns_100"]
    return results


# -- main -------------------------------------------------------------------------------------------------------
async def prepare(scratch: Path, rng: random.Random, stack: contextlib.AsyncExitStack) -> tuple[str, Seeded]:
    url = await stack.enter_async_context(bench_database())
    started = time.perf_counter()
    seeded = await seed(url, rng)
    print(
        f"seeded in {time.perf_counter() - started:.1f}s: "
        + ", ".join(f"{count:,} {table}" for table, count in seeded.counts.items()),
        flush=True,
    )
    return url, seeded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (a smoke run)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=["single", "list", "deep"], help="run one scenario")
    parser.add_argument("--skip-scaling", action="store_true", help="leave out the policy-scaling measurement")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    loader = "wrk" if shutil.which("wrk") else "bench/_load.py (wrk not installed)"
    print(f"load generator: {loader}, {args.connections} connections, loopback", flush=True)

    with tempfile.TemporaryDirectory(prefix="ambient-bench-api-") as scratch_name:
        scratch = Path(scratch_name)
        scratch.chmod(0o755)
        loop = asyncio.new_event_loop()
        stack = contextlib.AsyncExitStack()
        try:
            url, seeded = loop.run_until_complete(prepare(scratch, rng, stack))
            return measure(url, seeded, scratch, rng, args)
        finally:
            loop.run_until_complete(stack.aclose())
            loop.close()


def measure(url: str, seeded: Seeded, scratch: Path, rng: random.Random, args: argparse.Namespace) -> int:
    from authz.tokens import DevTokens
    from core.secrets import dev_jwt_secret
    from core.settings import Settings

    home = scratch / "home"
    settings = Settings(home=home)
    dev_tokens = DevTokens(dev_jwt_secret(settings))  # written before the server starts, so both share it
    tokens = {c.email: dev_tokens.issue(c.email, ttl_minutes=120) for c in seeded.clinicians}
    env = os.environ | {
        "AMBIENT_DATABASE_URL": url,
        "AMBIENT_HOME": str(home),
        "AMBIENT_LOG_LEVEL": "WARNING",
        "AMBIENT_LLM__ENABLED": "false",
        "AMBIENT_BENCH_TIMINGS": "1",
    }
    bare_port, ours_port, plain_port = free_port(), free_port(), free_port()
    bare_command = [sys.executable, str(REPO / "bench" / "_bare.py"), "--port", str(bare_port), "--dsn", libpq_url(url)]
    plain_command = [
        sys.executable, str(REPO / "bench" / "_strawberry.py"), "--port", str(plain_port), "--dsn", libpq_url(url)
    ]  # fmt: skip
    ours_command = [sys.executable, "-m", "api.cli", "serve", "--port", str(ours_port)]
    plan = [s for s in scenarios(seeded, tokens, rng, args.quick) if args.only in (None, s.name)]
    summary: dict[str, dict[str, Any]] = {}
    with (
        server(bare_command, env, scratch / "bare.log", f"http://127.0.0.1:{bare_port}/healthz"),
        server(ours_command, env, scratch / "ours.log", f"http://127.0.0.1:{ours_port}/healthz"),
        server(plain_command, env, scratch / "plain.log", f"http://127.0.0.1:{plain_port}/healthz"),
    ):
        # counted now that the server has also seeded its demo organization
        print(f"casbin policies in the server: {asyncio.run(casbin_policies(url)):,}", flush=True)
        for scenario in plan:
            check_answers(ours_port, scenario)
            contenders = {"bare": (bare_port, scenario.bare), "ours": (ours_port, scenario.ours)}
            if scenario.plain:
                contenders["plain"] = (plain_port, scenario.plain)
            for port, requests in contenders.values():  # warm-up
                run_load(port, requests, connections=args.connections, duration=2, scratch=scratch)
            results: dict[str, list[Result]] = {who: [] for who in contenders}
            shares: list[float] = []
            for round_index in range(scenario.rounds):
                order = list(contenders) if round_index % 2 == 0 else list(reversed(contenders))
                for who in order:
                    port, requests = contenders[who]
                    before = read_timings(ours_port, scenario.ours[0]) if who == "ours" else {}
                    result = run_load(
                        port, requests, connections=args.connections, duration=scenario.duration, scratch=scratch
                    )
                    if who == "ours":
                        after = read_timings(ours_port, scenario.ours[0])
                        if before and after and after["cpu_ns"] > before["cpu_ns"]:
                            shares.append(
                                (after["authz_ns"] - before["authz_ns"]) / (after["cpu_ns"] - before["cpu_ns"])
                            )
                    results[who].append(result)
                    print(
                        f"  {scenario.name:6s} round {round_index + 1} {who:5s}: {result.rps:8.0f} req/s "
                        f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  errors {result.errors}",
                        flush=True,
                    )
            bare_rps = statistics.median(r.rps for r in results["bare"])
            ours_rps = statistics.median(r.rps for r in results["ours"])
            bare_p99 = statistics.median(r.p99_ms for r in results["bare"])
            ours_p99 = statistics.median(r.p99_ms for r in results["ours"])
            summary[scenario.name] = {
                "bare_rps": bare_rps,
                "ours_rps": ours_rps,
                "bare_p99_ms": bare_p99,
                "ours_p99_ms": ours_p99,
                "throughput_ratio": ours_rps / bare_rps,
                "p99_ratio": ours_p99 / bare_p99,
                "authz_share": statistics.median(shares) if shares else float("nan"),
                "errors": sum(r.errors for rs in results.values() for r in rs),
            }
            s = summary[scenario.name]
            print(
                f"{scenario.name}: bare {bare_rps:.0f} req/s p99 {bare_p99:.2f} ms | ours {ours_rps:.0f} req/s "
                f"p99 {ours_p99:.2f} ms | throughput_ratio={s['throughput_ratio']:.3f} "
                f"p99_ratio={s['p99_ratio']:.2f} authz_share={s['authz_share']:.4f} errors={s['errors']}",
                flush=True,
            )
            if results.get("plain"):
                plain_rps = statistics.median(r.rps for r in results["plain"])
                plain_p99 = statistics.median(r.p99_ms for r in results["plain"])
                print(
                    f"{scenario.name} reference, plain strawberry (caches on; no authorization, scoping or audit): "
                    f"{plain_rps:.0f} req/s p99 {plain_p99:.2f} ms | plain/bare throughput={plain_rps / bare_rps:.3f} "
                    f"p99={plain_p99 / bare_p99:.2f} | ours/plain throughput={ours_rps / plain_rps:.3f} "
                    f"p99={ours_p99 / plain_p99:.2f}",
                    flush=True,
                )
    if args.skip_scaling or "single" not in summary:
        return 0
    scaling = policy_scaling(rng)
    print(
        f"authorization decision (index, memo off): {scaling['decision_ns_100'] / 1000:.2f} µs at "
        f"{scaling['policies_100']:.0f} policies, {scaling['decision_ns_10000'] / 1000:.2f} µs at "
        f"{scaling['policies_10000']:.0f} ({scaling['denied_share']:.0%} of the mix denied); plain Casbin "
        f"enforce() on the same mix: {scaling['casbin_ns_100'] / 1000:.0f} µs and "
        f"{scaling['casbin_ns_10000'] / 1000:.0f} µs",
        flush=True,
    )
    main = summary.get("single")
    if main is None:
        return 0
    print(
        f"throughput_ratio={main['throughput_ratio']:.3f} p99_ratio={main['p99_ratio']:.3f} "
        f"authz_share={main['authz_share']:.4f} policy_scaling={scaling['policy_scaling']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
