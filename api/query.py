from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import strawberry

from api.errors import bad_request
from api.policy import policy
from api.types.audit import AuditEvent, AuditOutcome
from api.types.common import Connection, Edge, PageInfo, parse_id
from api.types.encounter import Encounter
from api.types.note import Note
from api.types.patient import Patient
from api.types.user import Me, Organization, User
from authz.audit import AuditFilter, list_events
from core.pagination import InvalidCursor, PageRequest
from notes.encounters.status import EncounterStatus
from notes.identity.repository import IdentityRepository
from notes.visitnotes.repository import encode_worklist_cursor

PageT = TypeVar("PageT")


def pages(call: Callable[[], PageT]) -> PageT:
    """Turn a malformed cursor or page size into a BAD_REQUEST error instead of a masked one."""
    try:
        return call()
    except InvalidCursor as exc:
        raise bad_request(str(exc)) from exc


@strawberry.type(description="Reads. Every field is authorized and every record returned is audited.")
class Query:
    @strawberry.field(description="The signed-in user.", extensions=[policy("me", "read")])
    async def me(self, info: strawberry.Info) -> Me | None:
        context = info.context
        principal = context.principal
        async with context.session.use() as session:
            repo = IdentityRepository(session)
            user = await repo.user_by_email(principal.name)
            memberships = await repo.memberships(principal.id)
        organization = next(org for org, _ in memberships if org.id == principal.organization_id)
        if user is None:
            return None
        return Me(
            user=User.of(user),
            organization=Organization(
                id=strawberry.ID(str(organization.id)), slug=organization.slug, name=organization.name
            ),
            roles=sorted(principal.roles),
        )

    @strawberry.field(description="Staff of your organization.", extensions=[policy("staff", "read")])
    async def staff(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[User] | None:
        context = info.context
        page = pages(lambda: context.page(first, after))
        result = await context.reader.staff(page)
        return Connection.of(result, User.of, lambda record: record.id)

    @strawberry.field(
        description="A patient by id; null when it does not exist or you may not see it.",
        extensions=[policy("patient", "read")],
    )
    async def patient(self, info: strawberry.Info, id: strawberry.ID) -> Patient | None:
        key = parse_id(id)
        if key is None:
            info.context.access.record("read", "patient", None, "denied")
            return None
        record = await info.context.loaders.patient.load(key)
        return Patient.of(record) if record else None

    @strawberry.field(
        description="Patients of your organization, oldest registration first; `search` matches name or MRN.",
        extensions=[policy("patient", "read")],
    )
    async def patients(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Patient] | None:
        context = info.context
        page = pages(lambda: context.page(first, after))
        result = await context.reader.patients(page, search)
        return Connection.of(result, Patient.of, lambda record: record.id)

    @strawberry.field(
        description="An encounter by id; null when it does not exist or you may not see it.",
        extensions=[policy("encounter", "read")],
    )
    async def encounter(self, info: strawberry.Info, id: strawberry.ID) -> Encounter | None:
        key = parse_id(id)
        if key is None:
            info.context.access.record("read", "encounter", None, "denied")
            return None
        record = await info.context.loaders.encounter.load(key)
        return Encounter.of(record) if record else None

    @strawberry.field(
        description="Encounters you may see, oldest first; filter by patient or status.",
        extensions=[policy("encounter", "read")],
    )
    async def encounters(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        patient_id: strawberry.ID | None = None,
        status: EncounterStatus | None = None,
    ) -> Connection[Encounter] | None:
        context = info.context
        page = pages(lambda: context.page(first, after))
        patient_key = parse_id(patient_id)
        if patient_id is not None and patient_key is None:
            return Connection(edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None))
        result = await context.reader.encounters(page, patient_id=patient_key, status=status)
        return Connection.of(result, Encounter.of, lambda record: record.id)

    @strawberry.field(
        description="Notes awaiting your review, most urgent first: contradicted claims, unsupported claims, age.",
        extensions=[policy("worklist", "read")],
    )
    async def worklist(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Note] | None:
        context = info.context
        api = context.services.settings.api
        size = pages(lambda: PageRequest.clamp(first, default=api.default_page_size, maximum=api.max_page_size))
        try:
            page = await context.reader.worklist(size, after)
        except InvalidCursor as exc:
            raise bad_request(str(exc)) from exc
        edges = [Edge(node=Note.of(n), cursor=encode_worklist_cursor(n)) for n in page.items]
        return Connection(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None)
        )

    @strawberry.field(
        description="Your organization's security audit trail, oldest first (compliance only).",
        extensions=[policy("audit_event", "read")],
    )
    async def audit_events(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        actor_id: strawberry.ID | None = None,
        resource_type: str | None = None,
        resource_id: strawberry.ID | None = None,
        action: str | None = None,
        outcome: AuditOutcome | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Connection[AuditEvent] | None:
        context = info.context
        page = pages(lambda: context.position_page(first, after))
        where = AuditFilter(
            actor_id=parse_id(actor_id),
            resource_type=resource_type,
            resource_id=str(parse_id(resource_id)) if resource_id is not None else None,
            action=action,
            outcome=outcome.value if outcome else None,
            since=since,
            until=until,
        )
        async with context.session.use() as session:
            result = await list_events(session, context.access.organization_id, page, where)
        context.access.record("read", "audit_event", None, "allowed")
        return Connection.of(result, AuditEvent.of, lambda row: row.position)
