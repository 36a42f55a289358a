from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.policy import policy
from api.types.common import Connection, Edge, PageInfo
from core.pagination import encode_cursor
from notes.patients.records import PatientRecord

if TYPE_CHECKING:
    from api.types.encounter import Encounter


@strawberry.type(description="A patient registered in the organization. All demographics here are synthetic.")
class Patient:
    id: strawberry.ID = strawberry.field(description="Stable identifier.")
    mrn: str = strawberry.field(description="Medical record number, unique in the organization.")
    given_name: str = strawberry.field(description="Given name.")
    family_name: str = strawberry.field(description="Family name.")
    birth_date: date = strawberry.field(description="Date of birth.")
    created_at: datetime = strawberry.field(description="When the patient was registered.")

    @classmethod
    def of(cls, record: PatientRecord) -> Patient:
        return cls(
            id=strawberry.ID(str(record.id)),
            mrn=record.mrn,
            given_name=record.given_name,
            family_name=record.family_name,
            birth_date=record.birth_date,
            created_at=record.created_at,
        )

    @strawberry.field(
        description="The patient's encounters you may see, newest first (up to `first`, at most 100). "
        "Use `Query.encounters(patientId:)` to page further.",
        extensions=[policy("encounter", "read")],
    )
    async def encounters(
        self, info: strawberry.Info, first: int = 20
    ) -> Connection[Annotated[Encounter, strawberry.lazy("api.types.encounter")]]:
        from api.types.encounter import Encounter

        limit = max(0, min(first, 100))
        records = await info.context.loaders.encounters_by_patient.load(uuid.UUID(self.id))
        edges = [Edge(node=Encounter.of(r), cursor=encode_cursor(r.id)) for r in records[:limit]]
        return Connection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(records) > limit, end_cursor=edges[-1].cursor if edges else None),
        )
