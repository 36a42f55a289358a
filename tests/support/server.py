"""Running `ambient serve` as a user would, against the test database, for tests that need a real server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ambient_env(settings: Settings, **overrides: str) -> dict[str, str]:
    assert settings.database_url is not None
    return os.environ | {
        "AMBIENT_DATABASE_URL": settings.database_url.get_secret_value(),
        "AMBIENT_HOME": str(settings.home),
        "AMBIENT_LOG_LEVEL": "INFO",
        **overrides,
    }


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def running_server(settings: Settings, log: Path, *args: str, **env: str) -> Iterator[RunningServer]:
    port = free_port()
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), *args],
            env=ambient_env(settings, **env),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(process, port, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{server.http}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + server.output()[-4000:])
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
