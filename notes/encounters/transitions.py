"""Moving an encounter through the pipeline: the status row and its event, in the caller's transaction."""

from __future__ import annotations

import uuid

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from notes.encounters.models import Encounter
from notes.encounters.status import EncounterStatus
from notes.events.kinds import EventKind
from notes.events.publisher import publish


async def move_to(
    session: AsyncSession,
    encounter_id: uuid.UUID,
    organization_id: uuid.UUID,
    status: EncounterStatus,
    reason: str | None = None,
) -> None:
    changed = await session.execute(
        update(Encounter)
        .where(Encounter.id == encounter_id)
        .where((Encounter.status != status.value) | Encounter.status_reason.is_distinct_from(reason))
        .values(status=status.value, status_reason=reason, updated_at=func.now())
        .returning(Encounter.id)
    )
    if changed.first() is None:
        return  # already there: no duplicate event
    payload: dict[str, str] = {"status": status.value}
    if reason:
        payload["reason"] = reason
    await publish(
        session,
        encounter_id=encounter_id,
        organization_id=organization_id,
        kind=EventKind.STATUS_CHANGED,
        payload=payload,
    )
