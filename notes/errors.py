"""Domain errors carry a code from an enum of their area; the API turns them into typed payload errors."""

from __future__ import annotations

from enum import Enum


class DomainError(Exception):
    def __init__(self, code: Enum, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message  # must never contain patient data
        self.field = field
