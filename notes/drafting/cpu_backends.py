"""Which of the portable build's CPU backends llama-server runs on this CPU: chosen here, not by ggml.

Why not leave it to ggml: it scores its backends from CPUID alone and loads the best one silently. Under a
hypervisor a CPU can advertise a feature it cannot execute (seen here: an AMX-capable Xeon VM whose
`sapphirerapids` backend dies of SIGILL while every other backend runs). So we rank the backends with the
same weights from the kernel's view of the CPU (/proc/cpuinfo flags), give llama-server a directory that
holds exactly one backend, log which one, and when a backend dies of an illegal instruction we remember
that for this CPU and move to the next one. The variant table mirrors `ggml/src/CMakeLists.txt`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

# ggml's own score weights (ggml-cpu/arch/x86/cpu-feats.cpp): more and newer features rank higher.
_WEIGHTS = {
    "FMA": 1,
    "F16C": 2,
    "SSE42": 4,
    "BMI2": 8,
    "AVX": 16,
    "AVX2": 32,
    "AVX_VNNI": 64,
    "AVX512": 128,
    "AVX512_VBMI": 256,
    "AVX512_BF16": 512,
    "AVX512_VNNI": 1024,
    "AMX_INT8": 2048,
}
# The /proc/cpuinfo flags each feature needs (the kernel lists only what it lets processes use).
_FLAGS = {
    "FMA": ("fma",),
    "F16C": ("f16c",),
    "SSE42": ("sse4_2",),
    "BMI2": ("bmi2",),
    "AVX": ("avx",),
    "AVX2": ("avx2",),
    "AVX_VNNI": ("avx_vnni",),
    "AVX512": ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"),
    "AVX512_VBMI": ("avx512vbmi",),
    "AVX512_BF16": ("avx512_bf16",),
    "AVX512_VNNI": ("avx512_vnni",),
    "AMX_TILE": ("amx_tile",),
    "AMX_INT8": ("amx_int8",),
}
_HASWELL = ("SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2")
VARIANTS: dict[str, tuple[str, ...]] = {
    "x64": (),
    "sse42": ("SSE42",),
    "sandybridge": ("SSE42", "AVX"),
    "ivybridge": ("SSE42", "AVX", "F16C"),
    "piledriver": ("SSE42", "AVX", "F16C", "FMA"),
    "haswell": _HASWELL,
    "skylakex": (*_HASWELL, "AVX512"),
    "cannonlake": (*_HASWELL, "AVX512", "AVX512_VBMI"),
    "cascadelake": (*_HASWELL, "AVX512", "AVX512_VNNI"),
    "icelake": (*_HASWELL, "AVX512", "AVX512_VBMI", "AVX512_VNNI"),
    "cooperlake": (*_HASWELL, "AVX512", "AVX512_VNNI", "AVX512_BF16"),
    "zen4": (*_HASWELL, "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"),
    "alderlake": (*_HASWELL, "AVX_VNNI"),
    "sapphirerapids": (*_HASWELL, "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AMX_TILE", "AMX_INT8"),
}
_PREFIX, _SUFFIX = "libggml-cpu-", ".so"
_VIEWS = "variants"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()  # unknown CPU: only the plain x86-64 backend qualifies


def _supported(variant: str, flags: frozenset[str]) -> bool:
    return all(flag in flags for feature in VARIANTS[variant] for flag in _FLAGS[feature])


def _score(variant: str) -> int:
    return 1 + sum(_WEIGHTS.get(feature, 0) for feature in VARIANTS[variant])


def ranked(available: Iterable[str], flags: frozenset[str], unusable: Iterable[str] = ()) -> list[str]:
    """The build's backends this CPU can run, best first (unknown names and known failures left out)."""
    skip = set(unusable)
    usable = [v for v in available if v in VARIANTS and v not in skip and _supported(v, flags)]
    return sorted(usable, key=_score, reverse=True)


def cpu_key(flags: frozenset[str]) -> str:
    return hashlib.sha256(" ".join(sorted(flags)).encode()).hexdigest()[:16]


def _unusable_file(bin_dir: Path, flags: frozenset[str]) -> Path:
    return bin_dir / _VIEWS / f"unusable-{cpu_key(flags)}.json"


def known_unusable(bin_dir: Path, flags: frozenset[str]) -> list[str]:
    try:
        return list(json.loads(_unusable_file(bin_dir, flags).read_text()))
    except (OSError, ValueError, TypeError):
        return []


def mark_unusable(bin_dir: Path, flags: frozenset[str], variant: str) -> None:
    """Remember, for CPUs with exactly these flags, that `variant` dies of SIGILL (a later start skips it)."""
    path = _unusable_file(bin_dir, flags)
    path.parent.mkdir(parents=True, exist_ok=True)
    known = sorted({*known_unusable(bin_dir, flags), variant})
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(known))
    os.replace(tmp, path)


def view(bin_dir: Path, variant: str, files: Sequence[str]) -> Path:
    """A directory beside the build with the server, its libraries and only `variant`'s CPU backend.

    Hard links (the server must be a real file there: ggml searches the directory of /proc/self/exe,
    which a symlink would resolve back to the full build), copied where links are not possible.
    """
    target = bin_dir / _VIEWS / variant
    if (target / ".complete").is_file():
        return target
    wanted = [f for f in files if not (f.startswith(_PREFIX) and f.endswith(_SUFFIX))]
    wanted.append(f"{_PREFIX}{variant}{_SUFFIX}")
    tmp = target.with_name(f".{variant}.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in wanted:
        try:
            os.link(bin_dir / name, tmp / name)
        except OSError:
            shutil.copy2(bin_dir / name, tmp / name)
    (tmp / ".complete").write_text(variant)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target
