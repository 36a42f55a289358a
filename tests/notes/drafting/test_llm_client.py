"""The OpenAI client wrapper against a real HTTP server speaking the protocol (scripted answers)."""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import pytest

from notes.drafting.llm import LlmBadOutput, LlmClient, LlmRejected, LlmSettings, LlmTimeout, LlmUnavailable
from tests.notes.drafting.scripted_server import Reply, ScriptedOpenAI

SECRET = "Patient Zelda Quarrington, MRN 99-1234"  # stands for PHI in a prompt
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}
MESSAGES: Any = [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": SECRET}]


def settings(server: ScriptedOpenAI, **kw: Any) -> LlmSettings:
    base = LlmSettings(base_url=server.base_url, model="scripted", timeout_s=5.0, backoff_s=0.01)
    return base.replace(**kw)


def script(server: ScriptedOpenAI, replies: list[Reply]) -> None:
    queue = list(replies)
    server.responder = lambda body: queue.pop(0) if len(queue) > 1 else queue[0]


async def test_json_schema_request_and_parsed_answer(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(content='{"answer": "ok"}')])
    async with LlmClient(settings(scripted, max_tokens=77)) as client:
        result = await client.complete_json(MESSAGES, SCHEMA, schema_name="probe")
    assert result.data == {"answer": "ok"}
    assert not result.truncated
    sent = scripted.requests[0]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["name"] == "probe"
    assert sent["response_format"]["json_schema"]["schema"] == SCHEMA
    assert sent["max_tokens"] == 77
    assert sent["temperature"] == 0.0


async def test_5xx_is_retried_then_succeeds(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(status=500), Reply(status=502), Reply(content='{"answer": "late"}')])
    async with LlmClient(settings(scripted, max_retries=2)) as client:
        result = await client.complete_json(MESSAGES, SCHEMA)
    assert result.data == {"answer": "late"}
    assert len(scripted.requests) == 3


async def test_5xx_beyond_the_retry_budget_is_unavailable(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(status=503)])
    async with LlmClient(settings(scripted, max_retries=1)) as client:
        with pytest.raises(LlmUnavailable) as info:
            await client.complete_json(MESSAGES, SCHEMA)
    assert info.value.status_code == 503
    assert len(scripted.requests) == 2  # the first try and one retry, no more


async def test_429_is_retried(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(status=429), Reply(content='{"answer": "ok"}')])
    async with LlmClient(settings(scripted, max_retries=1)) as client:
        assert (await client.complete_json(MESSAGES, SCHEMA)).data == {"answer": "ok"}
    assert len(scripted.requests) == 2


async def test_4xx_is_rejected_without_retry(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(status=400)])
    async with LlmClient(settings(scripted, max_retries=3)) as client:
        with pytest.raises(LlmRejected) as info:
            await client.complete_json(MESSAGES, SCHEMA)
    assert info.value.status_code == 400
    assert len(scripted.requests) == 1


async def test_timeout_is_typed_and_not_retried_by_default(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(content='{"answer": "too late"}', delay_s=1.0)])
    async with LlmClient(settings(scripted, timeout_s=0.2, max_retries=2)) as client:
        with pytest.raises(LlmTimeout):
            await client.complete_json(MESSAGES, SCHEMA)
    assert len(scripted.requests) == 1  # a slow local server is still busy: asking again only queues


async def test_timeout_retried_when_asked_to(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(content='{"answer": "x"}', delay_s=1.0), Reply(content='{"answer": "fast"}')])
    async with LlmClient(settings(scripted, timeout_s=0.3, max_retries=1, retry_on_timeout=True)) as client:
        assert (await client.complete_json(MESSAGES, SCHEMA)).data == {"answer": "fast"}


async def test_unreachable_endpoint_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    cfg = LlmSettings(base_url=f"http://127.0.0.1:{port}/v1", model="x", max_retries=1, backoff_s=0.01)
    async with LlmClient(cfg) as client:
        with pytest.raises(LlmUnavailable):
            await client.complete_json(MESSAGES, SCHEMA)


async def test_non_json_answer_is_bad_output(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(content="Sure! Here is the note: the patient is fine.")])
    async with LlmClient(settings(scripted)) as client:
        with pytest.raises(LlmBadOutput):
            await client.complete_json(MESSAGES, SCHEMA)


async def test_truncated_answer_is_returned_for_salvage(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(content='{"answer": "cut of', finish_reason="length")])
    async with LlmClient(settings(scripted)) as client:
        result = await client.complete_json(MESSAGES, SCHEMA)
    assert result.truncated and result.data is None and result.text.startswith('{"answer"')


async def test_stream_chunks_arrive_in_order(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(stream_chunks=["Hel", "lo ", "world"])])
    async with LlmClient(settings(scripted)) as client:
        chunks = [c async for c in client.stream_text(MESSAGES)]
    assert chunks == ["Hel", "lo ", "world"]
    assert scripted.requests[0]["stream"] is True


async def test_a_stalled_stream_is_a_timeout(scripted: ScriptedOpenAI) -> None:
    script(scripted, [Reply(stream_chunks=["a", "b", "c"], chunk_delay_s=1.0)])
    received: list[str] = []
    async with LlmClient(settings(scripted, timeout_s=0.3)) as client:
        with pytest.raises(LlmTimeout):
            async for chunk in client.stream_text(MESSAGES):
                received.append(chunk)
    assert received == ["a"]


async def test_errors_and_logs_never_carry_the_prompt(
    scripted: ScriptedOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the openai SDK's included
    script(scripted, [Reply(status=500)])
    async with LlmClient(settings(scripted, max_retries=1)) as client:
        with pytest.raises(LlmUnavailable) as info:
            await client.complete_json(MESSAGES, SCHEMA)
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__  # raised `from None`
    logged = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert SECRET not in logged
    assert "scripted failure" not in str(info.value)  # the server's error body is not echoed either
