"""Registering patients."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError

from core.db import Database
from notes.access import Access, unit_of_work
from notes.patients.errors import PatientError, PatientErrorCode
from notes.patients.records import PatientRecord
from notes.patients.repository import PatientRepository

_MRN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
MAX_NAME = 200


@dataclass(frozen=True)
class NewPatient:
    given_name: str
    family_name: str
    birth_date: date
    mrn: str


def _validate(new: NewPatient, today: date) -> NewPatient:
    given, family, mrn = new.given_name.strip(), new.family_name.strip(), new.mrn.strip()
    for field, value in (("givenName", given), ("familyName", family)):
        if not value or len(value) > MAX_NAME:
            raise PatientError(PatientErrorCode.INVALID_INPUT, f"{field} must be 1-{MAX_NAME} characters", field)
    if not _MRN.match(mrn):
        raise PatientError(PatientErrorCode.INVALID_INPUT, "mrn must be 1-64 letters, digits or hyphens", "mrn")
    if new.birth_date > today or new.birth_date.year < today.year - 130:
        raise PatientError(PatientErrorCode.INVALID_INPUT, "birthDate is not a plausible date of birth", "birthDate")
    return NewPatient(given, family, new.birth_date, mrn)


async def create_patient(database: Database, access: Access, new: NewPatient) -> PatientRecord:
    access.require("patient", "create")
    assert access.principal is not None
    clean = _validate(new, date.today())
    try:
        async with unit_of_work(database, access) as work:
            repo = PatientRepository(work.session, access.principal)
            if await repo.mrn_taken(access.organization_id, clean.mrn):
                raise PatientError(PatientErrorCode.DUPLICATE_MRN, "a patient with this MRN already exists", "mrn")
            patient = await repo.create(
                organization_id=access.organization_id,
                mrn=clean.mrn,
                given_name=clean.given_name,
                family_name=clean.family_name,
                birth_date=clean.birth_date,
                created_by=access.user_id,
            )
            work.audit("create", "patient", patient.id)
    except IntegrityError as exc:  # a concurrent registration of the same MRN won the race
        raise PatientError(PatientErrorCode.DUPLICATE_MRN, "a patient with this MRN already exists", "mrn") from exc
    return patient
