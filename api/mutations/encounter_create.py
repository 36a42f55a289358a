from __future__ import annotations

import strawberry

from api.policy import policy
from api.types.common import parse_id
from api.types.encounter import Encounter
from api.types.errors import EncounterError, encounter_error
from notes.encounters.errors import EncounterError as EncounterDomainError
from notes.encounters.errors import EncounterErrorCode
from notes.encounters.service import create_encounter


@strawberry.input(description="A new encounter.")
class EncounterCreateInput:
    patient_id: strawberry.ID = strawberry.field(description="The patient seen.")
    reason: str = strawberry.field(description="Reason for the visit.")
    clinician_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Responsible clinician: defaults to you; a scribe names one of their clinicians.",
    )


@strawberry.type(description="The opened encounter, or why not.")
class EncounterCreatePayload:
    encounter: Encounter | None = strawberry.field(description="The new encounter.")
    errors: list[EncounterError] = strawberry.field(description="Empty on success.")


@strawberry.mutation(description="Open an encounter for a patient.", extensions=[policy("encounter", "create")])
async def encounter_create(info: strawberry.Info, input: EncounterCreateInput) -> EncounterCreatePayload:
    context = info.context
    patient_id = parse_id(input.patient_id)
    clinician_id = parse_id(input.clinician_id)
    try:
        if patient_id is None:
            raise EncounterDomainError(EncounterErrorCode.PATIENT_NOT_FOUND, "no such patient", "patientId")
        if input.clinician_id is not None and clinician_id is None:
            raise EncounterDomainError(EncounterErrorCode.CLINICIAN_NOT_FOUND, "no such clinician", "clinicianId")
        record = await create_encounter(
            context.services.database,
            context.access,
            patient_id=patient_id,
            reason=input.reason,
            clinician_id=clinician_id,
        )
    except EncounterDomainError as error:
        return EncounterCreatePayload(encounter=None, errors=[encounter_error(error)])
    return EncounterCreatePayload(encounter=Encounter.of(record), errors=[])
