"""All SQL about patients. Every query is scoped to what the principal may see."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Integer, Row, String, Uuid, any_, bindparam, func, insert, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal
from core.db import Rows
from core.ids import new_id
from core.pagination import Page, PageRequest
from notes.patients.models import Patient
from notes.patients.records import PatientRecord
from notes.scoping import patient_visible

_COLUMNS = (
    Patient.id,
    Patient.organization_id,
    Patient.mrn,
    Patient.given_name,
    Patient.family_name,
    Patient.birth_date,
    Patient.created_at,
)


def _record(row: Row[*tuple[Any, ...]]) -> PatientRecord:
    return PatientRecord(**row._mapping)


def _from_mapping(row: Mapping[Any, Any]) -> PatientRecord:
    return PatientRecord(**row)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PatientReads:
    """The API's frequent patient reads, scoped like every query here, built once per caller and run on
    the request's read connection (see core.db.StatementCache)."""

    def __init__(self, rows: Rows, principal: Principal) -> None:
        self.rows = rows
        self.principal = principal

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PatientRecord]:
        if not ids:
            return {}
        principal = self.principal
        rows = await self.rows.fetch(
            ("patients.get_many", principal),
            lambda: select(*_COLUMNS).where(
                Patient.id == any_(bindparam("ids", type_=ARRAY(Uuid))), patient_visible(principal)
            ),
            {"ids": list(ids)},
        )
        return {row["id"]: _from_mapping(row) for row in rows}

    async def page(self, page: PageRequest[uuid.UUID], search: str | None = None) -> Page[PatientRecord]:
        principal = self.principal
        filters = (bool(search), page.after is not None)

        def build() -> Any:
            query = select(*_COLUMNS).where(patient_visible(principal))
            if filters[0]:
                pattern = bindparam("pattern", type_=String)
                full_name = func.concat(Patient.given_name, " ", Patient.family_name)
                query = query.where(
                    or_(full_name.ilike(pattern), Patient.mrn.ilike(pattern), Patient.family_name.ilike(pattern))
                )
            if filters[1]:
                query = query.where(Patient.id > bindparam("after", type_=Uuid))
            return query.order_by(Patient.id).limit(bindparam("limit", type_=Integer))

        values = {
            "pattern": f"%{_escape_like(search.strip())}%" if search else None,
            "after": page.after,
            "limit": page.first + 1,
        }
        rows = await self.rows.fetch(("patients.page", principal, filters), build, values)
        return Page.from_rows([_from_mapping(row) for row in rows], page.first)


class PatientRepository:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PatientRecord]:
        if not ids:
            return {}
        rows = await self.session.execute(select(*_COLUMNS).where(Patient.id.in_(ids), patient_visible(self.principal)))
        return {row.id: _record(row) for row in rows}

    async def get(self, patient_id: uuid.UUID) -> PatientRecord | None:
        return (await self.get_many([patient_id])).get(patient_id)

    async def mrn_taken(self, organization_id: uuid.UUID, mrn: str) -> bool:
        found = await self.session.scalar(
            select(Patient.id).where(Patient.organization_id == organization_id, Patient.mrn == mrn)
        )
        return found is not None

    async def create(
        self,
        *,
        organization_id: uuid.UUID,
        mrn: str,
        given_name: str,
        family_name: str,
        birth_date: date,
        created_by: uuid.UUID | None,
    ) -> PatientRecord:
        row = (
            await self.session.execute(
                insert(Patient)
                .values(
                    id=new_id(),
                    organization_id=organization_id,
                    mrn=mrn,
                    given_name=given_name,
                    family_name=family_name,
                    birth_date=birth_date,
                    created_by=created_by,
                )
                .returning(*_COLUMNS)
            )
        ).one()
        return _record(row)
