"""Shared fixtures: a real PostgreSQL (AMBIENT_TEST_DATABASE_URL, else an embedded server), a fresh
database per run with the migrations applied, and isolation between tests by emptying every table.

Tests commit for real (LISTEN/NOTIFY, concurrency and job tests need real commits), so isolation is
by truncation after each test rather than by a rolled-back outer transaction.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import migrations
from api.app import create_app
from authz.tokens import DevTokens
from core.db import Base, Database, create_engine, libpq_url
from core.embedded_pg import start_embedded_server
from core.secrets import dev_jwt_secret
from core.settings import Settings
from notes.bootstrap import Services, close_services, load_role_assignments, open_services
from notes.identity.seed import seed_demo

REPO_ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = REPO_ROOT.parent / "shared" / "eval"


def _server_url(tmp_root: Path) -> str:
    configured = os.environ.get("AMBIENT_TEST_DATABASE_URL")
    if configured:
        return configured
    server = start_embedded_server(tmp_root)
    return str(server.get_uri())


@pytest.fixture(scope="session")
def test_home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ambient-test-") as directory:
        path = Path(directory)
        path.chmod(0o755)  # the embedded server runs as its own system user when we are root
        yield path


@pytest.fixture(scope="session")
async def database_url(test_home: Path) -> AsyncIterator[str]:
    server_url = await asyncio.to_thread(_server_url, test_home)
    name = f"ambient_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(libpq_url(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    await migrations.upgrade(url)
    yield url
    admin = await asyncpg.connect(libpq_url(server_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def settings(test_home: Path, database_url: str) -> Settings:
    return Settings(
        environment="development",
        home=test_home / "home",
        database_url=database_url,
    )


@pytest.fixture(scope="session")
async def services(settings: Settings, database_url: str) -> AsyncIterator[Services]:
    database = Database.for_engine(create_engine(database_url, settings.database), settings.database)
    opened = await open_services(settings, database)
    yield opened
    await close_services(opened)


def _empty_home_directories(settings: Settings) -> None:
    for name in ("objects", "tmp"):
        shutil.rmtree(settings.home_path(name), ignore_errors=True)


async def _empty_all_tables(database: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in reversed(Base.metadata.sorted_tables))
    async with database.transaction() as session:
        # Replica mode skips the append-only trigger on audit_events: only tests may do this.
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
async def _isolated(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every database test starts from the demo setup and leaves nothing behind."""
    if "services" not in request.fixturenames:
        yield
        return
    services: Services = request.getfixturevalue("services")
    await _empty_all_tables(services.database)
    _empty_home_directories(services.settings)
    async with services.database.transaction() as session:
        await seed_demo(session)
    await load_role_assignments(services.database, services.authorizer)
    services.authenticator.clear()
    yield
    await _empty_all_tables(services.database)
    _empty_home_directories(services.settings)


@pytest.fixture
def database(services: Services) -> Database:
    return services.database


@dataclass
class Api:
    """A GraphQL client over the real ASGI app, signed in as whoever `as_` names."""

    client: httpx.AsyncClient
    tokens: DevTokens

    def token(self, email: str, **kwargs: Any) -> str:
        return self.tokens.issue(email, ttl_minutes=60, **kwargs)

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = None,
        bearer: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """`as_`: a fresh token for that user; `bearer`: exactly this token (the principal cache is keyed
        by token, and two tokens issued a second apart differ)."""
        token = bearer or (self.token(as_) if as_ else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def upload(
        self,
        query: str,
        variables: dict[str, Any],
        file_variable: str,
        content: bytes,
        *,
        as_: str | None,
        filename: str = "visit.wav",
        content_type: str = "audio/wav",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A GraphQL multipart request (the spec Apollo and urql clients use)."""
        import json

        operations = json.dumps({"query": query, "variables": variables})
        mapping = json.dumps({"0": [f"variables.{file_variable}"]})
        request_headers = dict(headers or {})
        if as_:
            request_headers["Authorization"] = f"Bearer {self.token(as_)}"
        return await self.client.post(
            "/graphql",
            data={"operations": operations, "map": mapping},
            files={"0": (filename, content, content_type)},
            headers=request_headers,
        )


@pytest.fixture
async def api(settings: Settings, services: Services) -> AsyncIterator[Api]:
    app = create_app(settings, services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, DevTokens(dev_jwt_secret(settings)))


def new_mrn() -> str:
    return f"T-{uuid.uuid4().hex[:10]}"
