"""Reading the event log, and who may currently see an encounter (one query for all its subscribers)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from notes.encounters.models import CareTeamMember, Encounter
from notes.events.models import EncounterEvent
from notes.identity.models import Membership, ScribeAssignment


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    encounter_id: uuid.UUID
    organization_id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    created_at: datetime


_COLUMNS = (
    EncounterEvent.id,
    EncounterEvent.encounter_id,
    EncounterEvent.organization_id,
    EncounterEvent.kind,
    EncounterEvent.payload,
    EncounterEvent.created_at,
)


async def events_by_id(session: AsyncSession, ids: Sequence[int]) -> list[EventRecord]:
    rows = await session.execute(select(*_COLUMNS).where(EncounterEvent.id.in_(ids)).order_by(EncounterEvent.id))
    return [EventRecord(**row._mapping) for row in rows]


async def events_after(
    session: AsyncSession, after: int, *, encounter_id: uuid.UUID | None = None, limit: int = 1_000
) -> list[EventRecord]:
    query = select(*_COLUMNS).where(EncounterEvent.id > after)
    if encounter_id is not None:
        query = query.where(EncounterEvent.encounter_id == encounter_id)
    rows = await session.execute(query.order_by(EncounterEvent.id).limit(limit))
    return [EventRecord(**row._mapping) for row in rows]


async def latest_event_id(session: AsyncSession) -> int:
    found = await session.scalar(select(EncounterEvent.id).order_by(EncounterEvent.id.desc()).limit(1))
    return int(found or 0)


async def audiences(session: AsyncSession, encounter_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Users who may see each encounter now, by the same rules as notes.scoping.encounter_visible:
    clinicians responsible for it or on its care team, and scribes assigned to its clinician."""
    if not encounter_ids:
        return {}
    role = Membership.role
    same_org = Membership.organization_id == Encounter.organization_id
    responsible = (
        select(Encounter.id.label("encounter_id"), Membership.user_id)
        .join(Membership, Membership.user_id == Encounter.clinician_id)
        .where(Encounter.id.in_(encounter_ids), same_org, role == "clinician")
    )
    care_team = (
        select(Encounter.id.label("encounter_id"), Membership.user_id)
        .join(CareTeamMember, CareTeamMember.encounter_id == Encounter.id)
        .join(Membership, Membership.user_id == CareTeamMember.user_id)
        .where(Encounter.id.in_(encounter_ids), same_org, role == "clinician")
    )
    scribes = (
        select(Encounter.id.label("encounter_id"), Membership.user_id)
        .join(
            ScribeAssignment,
            (ScribeAssignment.clinician_id == Encounter.clinician_id)
            & (ScribeAssignment.organization_id == Encounter.organization_id),
        )
        .join(Membership, Membership.user_id == ScribeAssignment.scribe_id)
        .where(Encounter.id.in_(encounter_ids), same_org, role == "scribe")
    )
    result: dict[uuid.UUID, set[uuid.UUID]] = {key: set() for key in encounter_ids}
    for row in await session.execute(union(responsible, care_team, scribes)):
        result[row.encounter_id].add(row.user_id)
    return result
