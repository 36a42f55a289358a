"""What a pipeline worker holds for its whole life: services, and engines loaded once, on first use.

Engines are CPU-heavy and synchronous; steps call them in a thread so a worker inside `ambient serve`
never blocks the API's event loop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from authz.principal import SERVICE_ROLES, Principal
from notes.access import Access
from notes.bootstrap import Services

if TYPE_CHECKING:
    from nlp.engine import ClinicalNlp
    from transcription.engine import SpeechEngine


@dataclass
class PipelineRuntime:
    services: Services
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _speech: SpeechEngine | None = None
    _hotwords: list[str] | None = None
    _nlp: ClinicalNlp | None = None

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

    def hotwords(self) -> list[str]:
        """The medication vocabulary, most common first, for biasing the recogniser."""
        if self._hotwords is None:
            from nlp.vocabulary import medication_hotwords

            limit = self.services.settings.transcription.hotwords
            self._hotwords = medication_hotwords(limit) if limit else []
        return self._hotwords
