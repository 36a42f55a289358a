from __future__ import annotations

from enum import StrEnum

from notes.errors import DomainError


class RecordingErrorCode(StrEnum):
    ENCOUNTER_NOT_FOUND = "ENCOUNTER_NOT_FOUND"
    ENCOUNTER_SIGNED = "ENCOUNTER_SIGNED"
    EMPTY_FILE = "EMPTY_FILE"
    NOT_AUDIO = "NOT_AUDIO"
    CORRUPT_AUDIO = "CORRUPT_AUDIO"
    TOO_LARGE = "TOO_LARGE"
    TOO_LONG = "TOO_LONG"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    INVALID_INPUT = "INVALID_INPUT"


class RecordingError(DomainError):
    def __init__(self, code: RecordingErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(code, message, field)
        self.code: RecordingErrorCode = code
