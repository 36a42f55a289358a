from __future__ import annotations

from enum import StrEnum

from notes.errors import DomainError


class EncounterErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    PATIENT_NOT_FOUND = "PATIENT_NOT_FOUND"
    CLINICIAN_NOT_FOUND = "CLINICIAN_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"
    USER_NOT_FOUND = "USER_NOT_FOUND"  # not a clinician or scribe of this organization
    NOT_RESPONSIBLE_CLINICIAN = "NOT_RESPONSIBLE_CLINICIAN"


class EncounterError(DomainError):
    def __init__(self, code: EncounterErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(code, message, field)
        self.code: EncounterErrorCode = code
