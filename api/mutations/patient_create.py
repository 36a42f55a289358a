from __future__ import annotations

from datetime import date

import strawberry

from api.policy import policy
from api.types.errors import PatientError, patient_error
from api.types.patient import Patient
from notes.patients.errors import PatientError as PatientDomainError
from notes.patients.service import NewPatient, create_patient


@strawberry.input(description="A new patient. Use synthetic data outside production.")
class PatientCreateInput:
    given_name: str = strawberry.field(description="Given name.")
    family_name: str = strawberry.field(description="Family name.")
    birth_date: date = strawberry.field(description="Date of birth.")
    mrn: str = strawberry.field(description="Medical record number, unique in your organization.")


@strawberry.type(description="The registered patient, or why not.")
class PatientCreatePayload:
    patient: Patient | None = strawberry.field(description="The new patient.")
    errors: list[PatientError] = strawberry.field(description="Empty on success.")


@strawberry.mutation(description="Register a patient in your organization.", extensions=[policy("patient", "create")])
async def patient_create(info: strawberry.Info, input: PatientCreateInput) -> PatientCreatePayload:
    context = info.context
    try:
        record = await create_patient(
            context.services.database,
            context.access,
            NewPatient(input.given_name, input.family_name, input.birth_date, input.mrn),
        )
    except PatientDomainError as error:
        return PatientCreatePayload(patient=None, errors=[patient_error(error)])
    return PatientCreatePayload(patient=Patient.of(record), errors=[])
