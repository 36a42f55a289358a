"""One small async client for any OpenAI-compatible chat endpoint (OpenAI, Azure, vLLM, Ollama,
llama.cpp's server), built on `openai.AsyncOpenAI`.

Why our own retry loop: the openai client retries 5xx, 429 and timeouts on its own; a timed-out
generation on a CPU-bound local server is still running there, so retrying it only queues a second copy.
We set the client's `max_retries=0` and retry deliberately: connection errors, 429 and 5xx, with
backoff, up to `max_retries`; timeouts only if `retry_on_timeout`.
PHI: prompts and model output never go into exception messages or logs; errors carry status codes and
exception class names only, and are raised `from None` so a traceback does not print the SDK's message
(which can quote the response body).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

import httpx
import openai
from openai.types.chat import ChatCompletionMessageParam

from core.settings import LlmSettings as LlmConfig

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class LlmSettings:
    """What the lead maps from AMBIENT_LLM__* (base_url, model, api_key, timeout_s, max_retries)."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 120.0  # per request; a CPU-hosted 1.5B model needs ~30-60 s for one section
    connect_timeout_s: float = 5.0
    max_retries: int = 2
    retry_on_timeout: bool = False
    backoff_s: float = 0.5  # first wait; doubles per attempt, capped at 8 s
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0  # reproducible drafts where the endpoint honours it

    @classmethod
    def for_endpoint(cls, config: LlmConfig) -> LlmSettings:
        """The client settings for the endpoint named in AMBIENT_LLM__BASE_URL (which must be set)."""
        assert config.base_url is not None
        return cls(
            base_url=config.base_url,
            model=config.model or "default",
            api_key=config.api_key.get_secret_value() if config.api_key else None,
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
        )

    def replace(self, **changes: object) -> LlmSettings:
        return replace(self, **changes)  # type: ignore[arg-type]


class LlmError(RuntimeError):
    """Base of the typed LLM errors. Messages never contain prompt or output text."""


class LlmUnavailable(LlmError):
    """Cannot reach the endpoint, or it answered 429/5xx after all retries."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class LlmRejected(LlmError):
    """The endpoint refused the request (4xx other than 408/429): bad model name, schema, context length."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class LlmTimeout(LlmError):
    """No answer within `timeout_s`."""


class LlmBadOutput(LlmError):
    """The answer is not the JSON object we asked for."""


@dataclass(frozen=True, slots=True)
class JsonCompletion:
    data: JsonObject | None  # None only when truncated (finish_reason "length") and unparseable
    text: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    seconds: float

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


_RETRYABLE_STATUS = {408, 409, 429}


class LlmClient:
    def __init__(self, settings: LlmSettings) -> None:
        self.settings = settings
        self._client = openai.AsyncOpenAI(
            base_url=settings.base_url,
            # Local servers accept any key, but the SDK refuses to start without one.
            api_key=settings.api_key or "unused",
            timeout=openai.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
            max_retries=0,
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> LlmClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def complete_json(
        self,
        messages: Sequence[ChatCompletionMessageParam],
        schema: Mapping[str, Any],
        *,
        schema_name: str = "answer",
        max_tokens: int | None = None,
    ) -> JsonCompletion:
        """One schema-constrained completion (`response_format: json_schema`)."""
        s = self.settings
        started = time.monotonic()
        response = await self._with_retries(
            lambda: self._client.chat.completions.create(
                model=s.model,
                messages=list(messages),
                temperature=s.temperature,
                max_tokens=max_tokens or s.max_tokens,
                seed=s.seed,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": schema_name, "schema": dict(schema), "strict": True},
                },
            )
        )
        seconds = time.monotonic() - started
        if not response.choices:
            raise LlmBadOutput("the endpoint returned no choices")
        choice = response.choices[0]
        text = choice.message.content or ""
        usage = response.usage
        log.info(
            "llm completion",
            extra={
                "model": s.model,
                "finish_reason": choice.finish_reason,
                "prompt_tokens": usage.prompt_tokens if usage else None,
                "completion_tokens": usage.completion_tokens if usage else None,
                "seconds": round(seconds, 2),
            },
        )
        data: JsonObject | None
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            data = parsed
        elif choice.finish_reason == "length":
            data = None  # the caller may salvage complete items from `text`
        else:
            raise LlmBadOutput(f"the answer is not a JSON object (finish_reason={choice.finish_reason})")
        return JsonCompletion(
            data=data,
            text=text,
            finish_reason=choice.finish_reason,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            seconds=seconds,
        )

    async def stream_text(
        self, messages: Sequence[ChatCompletionMessageParam], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]:
        """Content deltas as they arrive. Retries happen only before the first chunk."""
        s = self.settings
        stream = await self._with_retries(
            lambda: self._client.chat.completions.create(
                model=s.model,
                messages=list(messages),
                temperature=s.temperature,
                max_tokens=max_tokens or s.max_tokens,
                seed=s.seed,
                stream=True,
            )
        )
        try:
            async for chunk in stream:
                for choice in chunk.choices:
                    if choice.delta.content:
                        yield choice.delta.content
        except openai.APIError as exc:
            raise _translate(exc) from None
        except httpx.TimeoutException:  # openai 1.x lets httpx's own timeout escape a stream; 3.x wraps it
            raise LlmTimeout("the LLM stream stalled past the timeout") from None
        finally:
            await stream.close()

    async def _with_retries(self, call: Any) -> Any:
        s = self.settings
        attempt = 0
        while True:
            try:
                return await call()
            except openai.APIError as exc:
                error = _translate(exc)
            retryable = isinstance(error, LlmUnavailable) or (isinstance(error, LlmTimeout) and s.retry_on_timeout)
            if not retryable or attempt >= s.max_retries:
                raise error from None
            wait = min(s.backoff_s * (2**attempt), 8.0)
            attempt += 1
            log.warning(
                "llm request failed; retrying",
                extra={"error": type(error).__name__, "status": getattr(error, "status_code", None),
                       "attempt": attempt, "wait_s": wait},
            )  # fmt: skip
            await asyncio.sleep(wait)


def _translate(exc: openai.APIError) -> LlmError:
    # Order matters: APITimeoutError is a subclass of APIConnectionError.
    if isinstance(exc, openai.APITimeoutError):
        return LlmTimeout("the LLM endpoint did not answer within the timeout")
    if isinstance(exc, openai.APIConnectionError):
        return LlmUnavailable("cannot connect to the LLM endpoint")
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        if code >= 500 or code in _RETRYABLE_STATUS:
            return LlmUnavailable(f"the LLM endpoint answered HTTP {code}", status_code=code)
        return LlmRejected(f"the LLM endpoint refused the request with HTTP {code}", status_code=code)
    return LlmBadOutput(f"unexpected answer from the LLM endpoint ({type(exc).__name__})")
