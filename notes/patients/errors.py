from __future__ import annotations

from enum import Enum

from notes.errors import DomainError


class PatientErrorCode(str, Enum):
    INVALID_INPUT = "INVALID_INPUT"
    DUPLICATE_MRN = "DUPLICATE_MRN"


class PatientError(DomainError):
    code: PatientErrorCode
