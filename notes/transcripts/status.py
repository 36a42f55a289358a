from __future__ import annotations

from enum import StrEnum


class TranscriptStatus(StrEnum):
    PENDING = "PENDING"  # queued
    RUNNING = "RUNNING"  # a worker is transcribing
    PARTIAL = "PARTIAL"  # live: segments so far, more audio expected
    DONE = "DONE"
    EMPTY = "EMPTY"  # finished with no segments; `reason` says why (e.g. NO_SPEECH)
    FAILED = "FAILED"  # `reason` holds the code
