"""Typed mutation errors: one type per domain, each with the domain's own code enum."""

from __future__ import annotations

import strawberry

from notes.encounters.errors import EncounterError as EncounterDomainError
from notes.encounters.errors import EncounterErrorCode
from notes.patients.errors import PatientError as PatientDomainError
from notes.patients.errors import PatientErrorCode
from notes.recordings.errors import RecordingError as RecordingDomainError
from notes.recordings.errors import RecordingErrorCode

strawberry.enum(PatientErrorCode, name="PatientErrorCode", description="Why a patient change failed.")
strawberry.enum(EncounterErrorCode, name="EncounterErrorCode", description="Why an encounter change failed.")
strawberry.enum(RecordingErrorCode, name="RecordingErrorCode", description="Why an upload was refused.")


@strawberry.type(description="A patient mutation error.")
class PatientError:
    code: PatientErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable explanation (never contains patient data).")
    field: str | None = strawberry.field(description="The input field at fault, if any.")


@strawberry.type(description="An encounter mutation error.")
class EncounterError:
    code: EncounterErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable explanation (never contains patient data).")
    field: str | None = strawberry.field(description="The input field at fault, if any.")


@strawberry.type(description="A recording mutation error.")
class RecordingError:
    code: RecordingErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable explanation (never contains patient data).")
    field: str | None = strawberry.field(description="The input field at fault, if any.")
    missing_sequences: list[int] | None = strawberry.field(
        default=None, description="For MISSING_CHUNKS: the chunk sequences not received."
    )


def patient_error(error: PatientDomainError) -> PatientError:
    return PatientError(code=error.code, message=error.message, field=error.field)


def encounter_error(error: EncounterDomainError) -> EncounterError:
    return EncounterError(code=error.code, message=error.message, field=error.field)


def recording_error(error: RecordingDomainError) -> RecordingError:
    return RecordingError(
        code=error.code,
        message=error.message,
        field=error.field,
        missing_sequences=error.details.get("missingSequences"),
    )
