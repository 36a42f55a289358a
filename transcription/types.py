"""Plain data the speech engine returns. No engine imports here, so callers can type against it cheaply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Speaker = Literal["clinician", "patient", "unknown"]


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start_ms: int
    end_ms: int
    probability: float


@dataclass(frozen=True, slots=True)
class Segment:
    index: int  # position in the transcript, 0-based, stable for a given audio + settings
    start_ms: int  # clamped to [0, duration_ms]
    end_ms: int
    speaker: Speaker
    text: str
    confidence: float  # 0..1, derived from the decoder's average log-probability
    words: tuple[Word, ...] = ()


@dataclass(frozen=True, slots=True)
class EngineInfo:
    engine: str  # "faster-whisper"
    engine_version: str
    model_name: str  # "tiny.en", "base", or the directory name of a custom model
    model_version: str  # content hash of the model weights (short), so provenance survives renames
    device: str
    compute_type: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transcript:
    segments: tuple[Segment, ...]
    duration_ms: int
    language: str
    engine: EngineInfo
    # Set when the transcript is empty for a reason the caller should show (e.g. "NO_SPEECH").
    empty_reason: str | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)
