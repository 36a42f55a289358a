"""All SQL about encounters and care teams, scoped by notes.scoping."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Integer, Row, String, Uuid, any_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal
from core.db import Rows
from core.ids import new_id
from core.pagination import Page, PageRequest
from notes.encounters.models import CareTeamMember, Encounter
from notes.encounters.records import EncounterRecord
from notes.encounters.status import EncounterStatus
from notes.scoping import encounter_visible

_COLUMNS = (
    Encounter.id,
    Encounter.organization_id,
    Encounter.patient_id,
    Encounter.clinician_id,
    Encounter.status,
    Encounter.status_reason,
    Encounter.reason,
    Encounter.created_at,
    Encounter.updated_at,
)


def _record(row: Row[*tuple[Any, ...]]) -> EncounterRecord:
    return _from_mapping(row._mapping)


def _from_mapping(row: Mapping[Any, Any]) -> EncounterRecord:
    values = dict(row)
    values["status"] = EncounterStatus(values["status"])
    return EncounterRecord(**values)


class EncounterReads:
    """The API's frequent encounter reads, scoped like every query here, built once per caller and run on
    the request's read connection (see core.db.StatementCache). Writes and locking reads stay on
    EncounterRepository."""

    def __init__(self, rows: Rows, principal: Principal) -> None:
        self.rows = rows
        self.principal = principal

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, EncounterRecord]:
        if not ids:
            return {}
        principal = self.principal
        rows = await self.rows.fetch(
            ("encounters.get_many", principal),
            lambda: select(*_COLUMNS).where(
                Encounter.id == any_(bindparam("ids", type_=ARRAY(Uuid))), encounter_visible(principal)
            ),
            {"ids": list(ids)},
        )
        return {row["id"]: _from_mapping(row) for row in rows}

    async def page(
        self,
        page: PageRequest[uuid.UUID],
        *,
        patient_id: uuid.UUID | None = None,
        status: EncounterStatus | None = None,
    ) -> Page[EncounterRecord]:
        principal = self.principal
        filters = (patient_id is not None, status is not None, page.after is not None)

        def build() -> Any:
            query = select(*_COLUMNS).where(encounter_visible(principal))
            if filters[0]:
                query = query.where(Encounter.patient_id == bindparam("patient_id", type_=Uuid))
            if filters[1]:
                query = query.where(Encounter.status == bindparam("status", type_=String))
            if filters[2]:
                query = query.where(Encounter.id > bindparam("after", type_=Uuid))
            return query.order_by(Encounter.id).limit(bindparam("limit", type_=Integer))

        rows = await self.rows.fetch(
            ("encounters.page", principal, filters),
            build,
            {
                "patient_id": patient_id,
                "status": status.value if status is not None else None,
                "after": page.after,
                "limit": page.first + 1,
            },
        )
        return Page.from_rows([_from_mapping(row) for row in rows], page.first)

    async def by_patients(
        self, patient_ids: Sequence[uuid.UUID], *, limit_each: int
    ) -> dict[uuid.UUID, list[EncounterRecord]]:
        """Each patient's most recent visible encounters, in one query (for nested lists)."""
        if not patient_ids:
            return {}
        principal = self.principal

        def build() -> Any:
            ranked = (
                select(
                    *_COLUMNS,
                    func.row_number()
                    .over(partition_by=Encounter.patient_id, order_by=Encounter.id.desc())
                    .label("rank"),
                )
                .where(Encounter.patient_id == any_(bindparam("ids", type_=ARRAY(Uuid))), encounter_visible(principal))
                .subquery()
            )
            return (
                select(*[ranked.c[column.key] for column in _COLUMNS])
                .where(ranked.c.rank <= bindparam("limit_each", type_=Integer))
                .order_by(ranked.c.patient_id, ranked.c.id.desc())
            )

        rows = await self.rows.fetch(
            ("encounters.by_patients", principal), build, {"ids": list(patient_ids), "limit_each": limit_each}
        )
        grouped: dict[uuid.UUID, list[EncounterRecord]] = defaultdict(list)
        for row in rows:
            grouped[row["patient_id"]].append(_from_mapping(row))
        return grouped


class EncounterRepository:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    async def get(self, encounter_id: uuid.UUID, *, for_update: bool = False) -> EncounterRecord | None:
        query = select(*_COLUMNS).where(Encounter.id == encounter_id, encounter_visible(self.principal))
        if for_update:
            query = query.with_for_update(of=Encounter)
        row = (await self.session.execute(query)).first()
        return _record(row) if row else None

    async def in_organization(
        self, encounter_id: uuid.UUID, organization_id: uuid.UUID, *, for_update: bool = False
    ) -> EncounterRecord | None:
        """Organization-scoped only, for administration (care teams) that never returns clinical content
        to the caller; everything else goes through `get`."""
        query = select(*_COLUMNS).where(Encounter.id == encounter_id, Encounter.organization_id == organization_id)
        if for_update:
            query = query.with_for_update(of=Encounter)
        row = (await self.session.execute(query)).first()
        return _record(row) if row else None

    async def create(
        self,
        *,
        organization_id: uuid.UUID,
        patient_id: uuid.UUID,
        clinician_id: uuid.UUID,
        reason: str,
        created_by: uuid.UUID | None,
    ) -> EncounterRecord:
        row = (
            await self.session.execute(
                insert(Encounter)
                .values(
                    id=new_id(),
                    organization_id=organization_id,
                    patient_id=patient_id,
                    clinician_id=clinician_id,
                    reason=reason,
                    status=EncounterStatus.CREATED.value,
                    created_by=created_by,
                )
                .returning(*_COLUMNS)
            )
        ).one()
        return _record(row)

    async def set_status(
        self, encounter_id: uuid.UUID, status: EncounterStatus, reason_code: str | None = None
    ) -> None:
        await self.session.execute(
            update(Encounter)
            .where(Encounter.id == encounter_id)
            .values(status=status.value, status_reason=reason_code, updated_at=func.now())
        )

    async def add_care_team_member(
        self, encounter_id: uuid.UUID, user_id: uuid.UUID, added_by: uuid.UUID | None
    ) -> None:
        await self.session.execute(
            pg_insert(CareTeamMember)
            .values(encounter_id=encounter_id, user_id=user_id, added_by=added_by)
            .on_conflict_do_nothing()
        )

    async def remove_care_team_member(self, encounter_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(CareTeamMember).where(CareTeamMember.encounter_id == encounter_id, CareTeamMember.user_id == user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
