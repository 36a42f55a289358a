"""Publishing an encounter event: a row in the event log plus a NOTIFY carrying only its id.

Both happen inside the caller's transaction, and PostgreSQL delivers notifications only on commit,
so subscribers never hear of a change that rolled back.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from notes.events.kinds import EventKind
from notes.events.models import EncounterEvent

CHANNEL = "ambient_events"


async def publish(
    session: AsyncSession,
    *,
    encounter_id: uuid.UUID,
    organization_id: uuid.UUID,
    kind: EventKind,
    payload: dict[str, Any] | None = None,
) -> int:
    event_id = (
        await session.execute(
            insert(EncounterEvent)
            .values(encounter_id=encounter_id, organization_id=organization_id, kind=kind.value, payload=payload or {})
            .returning(EncounterEvent.id)
        )
    ).scalar_one()
    await session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": str(event_id)})
    return int(event_id)
