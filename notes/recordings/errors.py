from __future__ import annotations

from enum import StrEnum
from typing import Any

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
    CHECKSUM_MISMATCH = "CHECKSUM_MISMATCH"  # the chunk's bytes do not hash to the sha256 sent with it
    CHUNK_CONFLICT = "CHUNK_CONFLICT"  # this sequence was already received with different bytes
    MISSING_CHUNKS = "MISSING_CHUNKS"  # finish found gaps; see missingSequences
    NO_LIVE_RECORDING = "NO_LIVE_RECORDING"  # finish without any chunk, or after finishing


class RecordingError(DomainError):
    def __init__(
        self, code: RecordingErrorCode, message: str, field: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code, message, field)
        self.details = details or {}
        self.code: RecordingErrorCode = code
