"""Choosing llama-server's CPU backend from the kernel's view of the CPU, and never the same SIGILL twice."""

from __future__ import annotations

from pathlib import Path

from notes.drafting import cpu_backends

ALL = tuple(cpu_backends.VARIANTS)
# An AMD EPYC with AVX2 and no AVX-512 / AVX-VNNI (where the prebuilt wheels died of SIGILL).
EPYC_AVX2 = frozenset(
    ["fpu", "sse", "sse2", "ssse3", "sse4_1", "sse4_2", "avx", "f16c", "fma", "avx2", "bmi1", "bmi2", "popcnt"]
)
# A Sapphire Rapids VM: everything advertised, AMX included.
SPR = EPYC_AVX2 | frozenset(
    [
        "avx512f",
        "avx512cd",
        "avx512vl",
        "avx512dq",
        "avx512bw",
        "avx512vbmi",
        "avx512_vnni",
        "avx512_bf16",
        "avx_vnni",
        "amx_tile",
        "amx_int8",
    ]
)


def test_an_avx2_cpu_gets_the_haswell_backend_and_never_an_avx512_one() -> None:
    order = cpu_backends.ranked(ALL, EPYC_AVX2)
    assert order[0] == "haswell"
    assert not {"skylakex", "icelake", "zen4", "alderlake", "sapphirerapids"} & set(order)
    assert order[-1] == "x64"  # always a way to run, however slowly


def test_an_unknown_cpu_gets_the_plain_x86_64_backend() -> None:
    assert cpu_backends.ranked(ALL, frozenset()) == ["x64"]


def test_the_best_backend_is_ggmls_choice_and_a_failed_one_is_skipped() -> None:
    assert cpu_backends.ranked(ALL, SPR)[0] == "sapphirerapids"
    assert cpu_backends.ranked(ALL, SPR, unusable=["sapphirerapids"])[0] == "zen4"
    assert cpu_backends.ranked(("haswell", "x64", "riscv_v"), SPR) == ["haswell", "x64"]  # unknown names ignored


def test_a_failure_is_remembered_per_cpu(tmp_path: Path) -> None:
    cpu_backends.mark_unusable(tmp_path, SPR, "sapphirerapids")
    cpu_backends.mark_unusable(tmp_path, SPR, "sapphirerapids")
    assert cpu_backends.known_unusable(tmp_path, SPR) == ["sapphirerapids"]
    assert cpu_backends.known_unusable(tmp_path, EPYC_AVX2) == []  # another CPU is not judged by this one


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse4_2 avx2\nbugs\t\t: spectre\n")
    assert cpu_backends.cpu_flags(info) == frozenset({"fpu", "sse4_2", "avx2"})
    assert cpu_backends.cpu_flags(tmp_path / "missing") == frozenset()


def test_a_view_holds_the_server_and_exactly_one_backend(tmp_path: Path) -> None:
    files = ["llama-server", "libllama.so", "libggml-base.so", "libggml-cpu-x64.so", "libggml-cpu-haswell.so"]
    for name in files:
        (tmp_path / name).write_bytes(name.encode())
    view = cpu_backends.view(tmp_path, "haswell", files)
    names = sorted(p.name for p in view.iterdir() if not p.name.startswith("."))
    assert names == ["libggml-base.so", "libggml-cpu-haswell.so", "libllama.so", "llama-server"]
    assert (view / "llama-server").stat().st_ino == (tmp_path / "llama-server").stat().st_ino  # a hard link
    assert cpu_backends.view(tmp_path, "haswell", files) == view  # made once
