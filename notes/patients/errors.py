from __future__ import annotations

from enum import StrEnum

from notes.errors import DomainError


class PatientErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    DUPLICATE_MRN = "DUPLICATE_MRN"


class PatientError(DomainError):
    def __init__(self, code: PatientErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(code, message, field)
        self.code: PatientErrorCode = code
