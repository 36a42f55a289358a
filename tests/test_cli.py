"""The `ambient` command as a user runs it: real processes against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from core.settings import Settings
from notes.bootstrap import Services


def _env(settings: Settings) -> dict[str, str]:
    assert settings.database_url is not None
    return os.environ | {
        "AMBIENT_DATABASE_URL": settings.database_url.get_secret_value(),
        "AMBIENT_HOME": str(settings.home),
        "AMBIENT_LOG_LEVEL": "INFO",
    }


def ambient(settings: Settings, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_token_prints_a_token_the_api_accepts_and_refuses_unknown_users(
    settings: Settings, services: Services
) -> None:
    result = ambient(settings, "token", "--user", "dr.lee@demo.test")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    principal, _ = await services.authenticator.authenticate(token)
    assert principal.name == "dr.lee@demo.test" and principal.roles == {"clinician"}
    unknown = ambient(settings, "token", "--user", "nobody@demo.test")
    assert unknown.returncode == 1 and "no user" in unknown.stderr


async def test_audit_verify_reports_ok_then_the_first_broken_link(settings: Settings, services: Services) -> None:
    from authz.audit import AuditEvent, append_events

    async with services.database.transaction() as session:
        await append_events(session, [AuditEvent("read", "patient", None, "allowed") for _ in range(3)])
    ok = ambient(settings, "audit", "verify")
    assert ok.returncode == 0 and "3 events verified" in ok.stdout
    async with services.database.transaction() as session:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text("UPDATE audit_events SET action = 'create' WHERE position = 2"))
    broken = ambient(settings, "audit", "verify")
    assert broken.returncode == 1 and "position 2" in broken.stdout


def test_serve_answers_health_and_graphql(settings: Settings, services: Services, tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--no-worker"],
        env=_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("server did not start: " + (process.stdout.read() if process.stdout else ""))
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        assert health.json()["drafter"]["state"] == "NOT_STARTED"  # --no-worker: no drafter here
        token = ambient(settings, "token", "--user", "audit@demo.test").stdout.strip()
        response = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ me { user { email } roles } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.json() == {"data": {"me": {"user": {"email": "audit@demo.test"}, "roles": ["compliance"]}}}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    # uvicorn re-raises SIGTERM after a graceful shutdown, so the exit status names the signal.
    assert "Application shutdown complete" in output


def test_zero_config_serve_runs_its_own_postgres_and_stops_it_on_sigterm(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMBIENT_")} | {
        "AMBIENT_HOME": str(home),
        "AMBIENT_LLM__ENABLED": "false",
    }
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    postmaster = home / "pgdata" / "postmaster.pid"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                assert health["status"] == "ok"
                # --no-worker: no drafter in this process, and /healthz says so rather than guessing
                assert health["drafter"]["state"] == "NOT_STARTED"
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("server did not start: " + (process.stdout.read() if process.stdout else ""))
                time.sleep(0.5)
        assert postmaster.exists(), "the embedded PostgreSQL runs under AMBIENT_HOME"
    finally:
        process.terminate()
        process.communicate(timeout=60)
    deadline = time.monotonic() + 30
    while postmaster.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not postmaster.exists(), "PostgreSQL was left running after `ambient serve` stopped"


def test_schema_command_prints_the_committed_schema(settings: Settings) -> None:
    result = ambient(settings, "schema")
    assert result.stdout == (Path(__file__).parent.parent / "schema.graphql").read_text()
