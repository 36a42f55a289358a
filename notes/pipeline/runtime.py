"""What a pipeline worker holds for its whole life: services, and engines loaded once, on first use.

Engines are CPU-heavy and synchronous; steps call them in a thread so a worker inside `ambient serve`
never blocks the API's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from authz.principal import SERVICE_ROLES, Principal
from notes.access import Access
from notes.bootstrap import Services

log = logging.getLogger(__name__)
LOCAL_TIMEOUT_S = 600.0

if TYPE_CHECKING:
    from nlp.engine import ClinicalNlp
    from notes.drafting.drafter import Drafter
    from transcription.engine import SpeechEngine


@dataclass
class PipelineRuntime:
    services: Services
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _speech: SpeechEngine | None = None
    _hotwords: list[str] | None = None
    _nlp: ClinicalNlp | None = None
    _drafter: Drafter | None = None
    _resources: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    _drafter_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def access(self, service: str) -> Access:
        return Access(principal=Principal.service(service, SERVICE_ROLES[service]), authorizer=self.services.authorizer)

    def speech_engine(self) -> SpeechEngine:
        with self._lock:
            if self._speech is None:
                from transcription.engine import EngineConfig, SpeechEngine

                config = self.services.settings.transcription
                self._speech = SpeechEngine(
                    EngineConfig(
                        model=config.model,
                        device=config.device,
                        compute_type=config.compute_type,
                        cpu_threads=config.cpu_threads,
                        beam_size=config.beam_size,
                        max_hotwords=config.hotwords,
                    )
                )
            return self._speech

    def nlp_engine(self) -> ClinicalNlp:
        with self._lock:
            if self._nlp is None:
                from nlp.engine import ClinicalNlp

                settings = self.services.settings
                self._nlp = ClinicalNlp.load(settings.nlp.cache_dir or settings.home_path("cache", "nlp"))
            return self._nlp

    async def drafter(self) -> Drafter:
        """The configured LLM (any OpenAI-compatible endpoint), else the bundled model on a local
        llama-server started on first use; the deterministic drafter when neither is available.
        LLM failures at drafting time fall back to the deterministic drafter, which says so."""
        async with self._drafter_lock:
            if self._drafter is None:
                self._drafter = await self._build_drafter()
            return self._drafter

    async def _build_drafter(self) -> Drafter:
        from notes.drafting.deterministic import DeterministicDrafter
        from notes.drafting.drafter import FallbackDrafter, LlmDrafter
        from notes.drafting.llm import LlmClient, LlmSettings
        from notes.drafting.local_server import LocalServerError, LocalServerOptions, local_llm

        config = self.services.settings.llm
        status = self.services.drafter_status
        if not config.enabled:
            status.state, status.fallback_reason = "DETERMINISTIC", "LLM_DISABLED"
            log.info("drafter: deterministic (AMBIENT_LLM__ENABLED=false)")
            return DeterministicDrafter(fallback_reason="LLM_DISABLED")
        deterministic = DeterministicDrafter()
        if config.base_url:
            client = await self._resources.enter_async_context(LlmClient(LlmSettings.for_endpoint(config)))
            status.state, status.model, status.detail = "LLM", config.model, "OpenAI-compatible endpoint"
            log.info("drafter: %s at the configured OpenAI-compatible endpoint", config.model)
            return FallbackDrafter(LlmDrafter(client, concurrency=4), deterministic)
        status.state = "STARTING"
        options = LocalServerOptions(server_dir=config.server_dir)
        try:
            server = await self._resources.enter_async_context(
                local_llm(self.services.settings.home_path(), config.local_model, options)
            )
        except LocalServerError as exc:
            status.state, status.fallback_reason, status.detail = "DETERMINISTIC", exc.code, str(exc)
            log.warning(
                "NO LOCAL LLM (%s): %s. Notes will be drafted by the deterministic drafter "
                "(drafter.fallbackReason on each note, and /healthz, say so).",
                exc.code,
                exc,
            )
            return DeterministicDrafter(fallback_reason=exc.code)
        status.state, status.model, status.detail = "LLM", server.alias, server.description
        # A CPU-hosted model can take over a minute for one section: its timeout is generous.
        settings = server.settings(timeout_s=max(config.timeout_s, LOCAL_TIMEOUT_S), max_retries=config.max_retries)
        client = await self._resources.enter_async_context(LlmClient(settings))
        return FallbackDrafter(LlmDrafter(client), deterministic)

    async def aclose(self) -> None:
        """Stop what the drafter started (the local llama-server, HTTP clients)."""
        await self._resources.aclose()
        self._resources = contextlib.AsyncExitStack()
        self._drafter = None

    def hotwords(self) -> list[str]:
        """The medication vocabulary, most common first, for biasing the recogniser."""
        if self._hotwords is None:
            from nlp.vocabulary import medication_hotwords

            limit = self.services.settings.transcription.hotwords
            self._hotwords = medication_hotwords(limit) if limit else []
        return self._hotwords
