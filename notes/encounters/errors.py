from __future__ import annotations

from enum import Enum

from notes.errors import DomainError


class EncounterErrorCode(str, Enum):
    INVALID_INPUT = "INVALID_INPUT"
    PATIENT_NOT_FOUND = "PATIENT_NOT_FOUND"
    CLINICIAN_NOT_FOUND = "CLINICIAN_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"


class EncounterError(DomainError):
    code: EncounterErrorCode
