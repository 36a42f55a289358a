"""A pipeline that cannot start its model says so: on the drafter it returns, and in the status /healthz shows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from core.settings import LlmSettings
from notes.bootstrap import Services
from notes.drafter_status import DrafterStatus
from notes.pipeline.runtime import PipelineRuntime


async def test_a_missing_llama_server_is_a_visible_fallback(services: Services, tmp_path: Path) -> None:
    nowhere = tmp_path / "no-server-here"
    nowhere.mkdir()
    llm = LlmSettings(server_dir=nowhere)  # the local model, pointed at a directory with no llama-server
    runtime_services = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"llm": llm}), drafter_status=DrafterStatus()
    )
    runtime = PipelineRuntime(runtime_services)
    try:
        drafter = await runtime.drafter()
    finally:
        await runtime.aclose()
    assert drafter.info.kind == "DETERMINISTIC"
    assert drafter.info.fallback_reason == "LLM_NOT_BUILT"
    status = runtime_services.drafter_status.as_json()
    assert status["state"] == "DETERMINISTIC" and status["fallback_reason"] == "LLM_NOT_BUILT"
    assert status["detail"] is not None and "llama-server" in status["detail"]


async def test_a_disabled_model_is_named_as_the_reason(services: Services) -> None:
    llm = LlmSettings(enabled=False)
    runtime_services = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"llm": llm}), drafter_status=DrafterStatus()
    )
    runtime = PipelineRuntime(runtime_services)
    drafter = await runtime.drafter()
    await runtime.aclose()
    assert drafter.info.fallback_reason == "LLM_DISABLED"
    assert runtime_services.drafter_status.state == "DETERMINISTIC"
