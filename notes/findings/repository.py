"""All SQL about findings, reached through an encounter the principal may see."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal
from notes.encounters.models import Encounter
from notes.findings.models import Finding
from notes.findings.records import FindingRecord
from notes.scoping import encounter_visible

_FIELDS = tuple(FindingRecord.__dataclass_fields__)
_COLUMNS = tuple(Finding.__table__.c[name] for name in _FIELDS)


class FindingRepository:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    async def for_encounters(self, encounter_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[FindingRecord]]:
        if not encounter_ids:
            return {}
        rows = await self.session.execute(
            select(*_COLUMNS)
            .join(Encounter, Encounter.id == Finding.encounter_id)
            .where(Finding.encounter_id.in_(encounter_ids), encounter_visible(self.principal))
            .order_by(Finding.encounter_id, Finding.kind, Finding.position)
        )
        grouped: dict[uuid.UUID, list[FindingRecord]] = defaultdict(list)
        for row in rows:
            grouped[row.encounter_id].append(FindingRecord(**row._mapping))
        return grouped

    async def patient_medication_names(self, patient_id: uuid.UUID, limit: int = 20) -> list[str]:
        """Generic names of medications found in this patient's earlier visits, most recent first."""
        last_seen = func.max(Finding.created_at)
        rows = await self.session.execute(
            select(Finding.name)
            .join(Encounter, Encounter.id == Finding.encounter_id)
            .where(
                Encounter.patient_id == patient_id,
                Finding.kind == "medication",
                Finding.negated.is_(False),
                Finding.name.is_not(None),
                encounter_visible(self.principal),
            )
            .group_by(Finding.name)
            .order_by(last_seen.desc())
            .limit(limit)
        )
        return [str(row.name) for row in rows]

    async def replace_for_encounter(
        self, encounter_id: uuid.UUID, organization_id: uuid.UUID, rows: Sequence[dict[str, Any]]
    ) -> int:
        """Idempotent: a re-run replaces the encounter's findings instead of adding to them."""
        await self.session.execute(delete(Finding).where(Finding.encounter_id == encounter_id))
        if rows:
            await self.session.execute(
                insert(Finding),
                [row | {"encounter_id": encounter_id, "organization_id": organization_id} for row in rows],
            )
        return len(rows)
