"""Where an encounter is in the documentation pipeline."""

from __future__ import annotations

from enum import StrEnum


class EncounterStatus(StrEnum):
    CREATED = "CREATED"  # no audio yet
    RECORDING = "RECORDING"  # live chunks arriving
    RECORDED = "RECORDED"  # audio complete, waiting for transcription
    TRANSCRIBING = "TRANSCRIBING"
    TRANSCRIBED = "TRANSCRIBED"
    EXTRACTING = "EXTRACTING"
    EXTRACTED = "EXTRACTED"
    DRAFTING = "DRAFTING"
    DRAFTED = "DRAFTED"  # a note awaits the clinician's review
    SIGNED = "SIGNED"
    FAILED = "FAILED"  # see status_reason
