from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FindingRecord:
    id: uuid.UUID
    encounter_id: uuid.UUID
    transcript_id: uuid.UUID
    kind: str
    position: int
    text: str
    name: str | None
    code_system: str | None
    code: str | None
    code_display: str | None
    negated: bool
    historical: bool
    family: bool
    hypothetical: bool
    uncertain: bool
    asked: bool
    dose: str | None
    unit: str | None
    route: str | None
    frequency: str | None
    duration: str | None
    status: str | None
    segment_id: uuid.UUID | None
    start_char: int
    end_char: int
    start_ms: int
    end_ms: int
    speaker: str
    ruleset_version: str
