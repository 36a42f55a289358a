"""Typed mutation errors: one type per domain, each with the domain's own code enum."""

from __future__ import annotations

import strawberry

from notes.encounters.errors import EncounterErrorCode
from notes.errors import DomainError
from notes.patients.errors import PatientErrorCode
from notes.recordings.errors import RecordingErrorCode

PatientErrorCodeType = strawberry.enum(PatientErrorCode, name="PatientErrorCode", description="Why a patient change failed.")
EncounterErrorCodeType = strawberry.enum(
    EncounterErrorCode, name="EncounterErrorCode", description="Why an encounter change failed."
)
RecordingErrorCodeType = strawberry.enum(
    RecordingErrorCode, name="RecordingErrorCode", description="Why an upload was refused."
)


@strawberry.type(description="A patient mutation error.")
class PatientError:
    code: PatientErrorCodeType = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable explanation (never contains patient data).")
    field: str | None = strawberry.field(description="The input field at fault, if any.")


@strawberry.type(description="An encounter mutation error.")
class EncounterError:
    code: EncounterErrorCodeType = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable explanation (never contains patient data).")
    field: str | None = strawberry.field(description="The input field at fault, if any.")


@strawberry.type(description="A recording mutation error.")
class RecordingError:
    code: RecordingErrorCodeType = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable explanation (never contains patient data).")
    field: str | None = strawberry.field(description="The input field at fault, if any.")


def patient_error(error: DomainError) -> PatientError:
    return PatientError(code=error.code, message=error.message, field=error.field)  # type: ignore[arg-type]


def encounter_error(error: DomainError) -> EncounterError:
    return EncounterError(code=error.code, message=error.message, field=error.field)  # type: ignore[arg-type]


def recording_error(error: DomainError) -> RecordingError:
    return RecordingError(code=error.code, message=error.message, field=error.field)  # type: ignore[arg-type]
