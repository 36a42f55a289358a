from __future__ import annotations

from enum import StrEnum
from typing import Any

from notes.errors import DomainError


class NoteErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"  # expectedVersion is not the current version: someone changed it first
    NOTE_SIGNED = "NOTE_SIGNED"  # a signed note never changes (addenda only)
    NOT_SIGNED = "NOT_SIGNED"  # addenda follow a signature
    NOT_READY = "NOT_READY"  # the drafter is still writing
    NOT_RESPONSIBLE_CLINICIAN = "NOT_RESPONSIBLE_CLINICIAN"  # only the encounter's clinician signs or amends
    SECTION_EDITED = "SECTION_EDITED"  # regenerating would overwrite a clinician's edit
    UNACKNOWLEDGED_OMISSIONS = "UNACKNOWLEDGED_OMISSIONS"  # critical findings left out; see findingIds
    NOT_AN_OMISSION = "NOT_AN_OMISSION"  # acknowledging a finding the current version does not leave out
    INVALID_INPUT = "INVALID_INPUT"


class NoteError(DomainError):
    def __init__(
        self, code: NoteErrorCode, message: str, field: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code, message, field)
        self.details = details or {}
        self.code: NoteErrorCode = code
