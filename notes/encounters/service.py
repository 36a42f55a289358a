"""Opening encounters. The responsible clinician is the caller, or for a scribe one of their clinicians."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from notes.access import Access, unit_of_work
from notes.encounters.errors import EncounterError, EncounterErrorCode
from notes.encounters.records import EncounterRecord
from notes.encounters.repository import EncounterRepository
from notes.events.kinds import EventKind
from notes.events.publisher import publish
from notes.identity.repository import IdentityRepository
from notes.patients.repository import PatientRepository

MAX_REASON = 2_000


async def _responsible_clinician(
    access: Access, identity: IdentityRepository, requested: uuid.UUID | None
) -> uuid.UUID:
    principal = access.principal
    assert principal is not None and principal.id is not None
    allowed: set[uuid.UUID] = set()
    if principal.has_role("clinician"):
        allowed.add(principal.id)
    if principal.has_role("scribe"):
        allowed.update(await identity.assigned_clinicians(principal.id, access.organization_id))
    if requested is not None:
        if requested not in allowed:
            raise EncounterError(
                EncounterErrorCode.CLINICIAN_NOT_FOUND, "no such clinician you may act for", "clinicianId"
            )
        return requested
    if principal.id in allowed:
        return principal.id
    if len(allowed) == 1:
        return next(iter(allowed))
    raise EncounterError(
        EncounterErrorCode.INVALID_INPUT,
        "clinicianId is required: you act for several clinicians",
        "clinicianId",
    )


async def create_encounter(
    database: Database,
    access: Access,
    *,
    patient_id: uuid.UUID,
    reason: str,
    clinician_id: uuid.UUID | None = None,
) -> EncounterRecord:
    access.require("encounter", "create")
    assert access.principal is not None
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise EncounterError(EncounterErrorCode.INVALID_INPUT, f"reason must be 1-{MAX_REASON} characters", "reason")
    async with unit_of_work(database, access) as work:
        patient = await PatientRepository(work.session, access.principal).get(patient_id)
        if patient is None:
            access.record("read", "patient", patient_id, "denied")
            raise EncounterError(EncounterErrorCode.PATIENT_NOT_FOUND, "no such patient", "patientId")
        responsible = await _responsible_clinician(access, IdentityRepository(work.session), clinician_id)
        encounter = await EncounterRepository(work.session, access.principal).create(
            organization_id=access.organization_id,
            patient_id=patient.id,
            clinician_id=responsible,
            reason=reason,
            created_by=access.user_id,
        )
        work.audit("create", "encounter", encounter.id)
    return encounter


async def _care_team_target(
    access: Access, work_session: AsyncSession, encounter_id: uuid.UUID
) -> tuple[EncounterRecord, EncounterRepository]:
    """Administrators manage any encounter of their organization (without reading its content);
    a clinician manages the care team of encounters they are responsible for."""
    principal = access.principal
    assert principal is not None
    repo = EncounterRepository(work_session, principal)
    encounter = await repo.in_organization(encounter_id, access.organization_id, for_update=True)
    if encounter is not None and (principal.has_role("admin") or encounter.clinician_id == principal.id):
        return encounter, repo
    access.record("update", "care_team", encounter_id, "denied")
    if encounter is not None and await repo.get(encounter_id) is not None:  # they may see it, just not manage it
        raise EncounterError(
            EncounterErrorCode.NOT_RESPONSIBLE_CLINICIAN, "only the responsible clinician manages the care team"
        )
    raise EncounterError(EncounterErrorCode.NOT_FOUND, "no such encounter", "encounterId")


async def change_care_team(
    database: Database, access: Access, *, encounter_id: uuid.UUID, user_id: uuid.UUID, add: bool
) -> EncounterRecord:
    access.require("care_team", "update", encounter_id)
    async with unit_of_work(database, access) as work:
        encounter, repo = await _care_team_target(access, work.session, encounter_id)
        roles = await IdentityRepository(work.session).roles_in(user_id, encounter.organization_id)
        if not roles & {"clinician", "scribe"}:
            raise EncounterError(EncounterErrorCode.USER_NOT_FOUND, "no such clinician or scribe here", "userId")
        if add:
            await repo.add_care_team_member(encounter.id, user_id, access.user_id)
        else:
            await repo.remove_care_team_member(encounter.id, user_id)
        await publish(
            work.session,
            encounter_id=encounter.id,
            organization_id=encounter.organization_id,
            kind=EventKind.CARE_TEAM_CHANGED,
            payload={"userId": str(user_id), "change": "added" if add else "removed"},
        )
        work.audit("update", "care_team", encounter.id)
    return encounter
