"""The caller's side of every domain operation: who they are, what Casbin says, and what gets audited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from authz.audit import AuditEvent, Outcome, append_events
from authz.authorizer import Authorizer
from authz.principal import Principal
from core.db import Database


class Unauthenticated(Exception):
    """No valid credentials were presented."""

    extensions = {"code": "UNAUTHENTICATED"}  # read by graphql-core when this reaches the transport

    def __init__(self) -> None:
        super().__init__("Authentication required.")


class Forbidden(Exception):
    """The caller's roles do not allow the action (says nothing about whether a record exists)."""

    extensions = {"code": "FORBIDDEN"}

    def __init__(self, resource: str, action: str) -> None:
        super().__init__("You are not allowed to do this.")
        self.resource = resource
        self.action = action


@dataclass
class Access:
    principal: Principal | None
    authorizer: Authorizer
    request_id: str | None = None
    # Reads and denials, flushed by the transport once the operation finishes (see authz.audit_writer).
    pending_audit: list[AuditEvent] = field(default_factory=list)
    _seen_reads: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def user_id(self) -> uuid.UUID:
        if self.principal is None or self.principal.id is None:
            raise Unauthenticated()
        return self.principal.id

    @property
    def organization_id(self) -> uuid.UUID:
        if self.principal is None or self.principal.organization_id is None:
            raise Unauthenticated()
        return self.principal.organization_id

    def can(self, resource: str, action: str) -> bool:
        return self.authorizer.allowed(self.principal, resource, action)

    def require(self, resource: str, action: str, resource_id: str | uuid.UUID | None = None) -> None:
        if self.principal is None:
            raise Unauthenticated()
        if not self.can(resource, action):
            self.record(action, resource, resource_id, "denied")
            raise Forbidden(resource, action)

    def event(
        self, action: str, resource_type: str, resource_id: str | uuid.UUID | None, outcome: Outcome
    ) -> AuditEvent:
        return AuditEvent.of(self.principal, action, resource_type, resource_id, outcome, self.request_id)

    def record(self, action: str, resource_type: str, resource_id: str | uuid.UUID | None, outcome: Outcome) -> None:
        """Queue an event outside any transaction (reads, denials); one per record per request."""
        key = (action, resource_type, f"{resource_id}:{outcome}")
        if action == "read" and key in self._seen_reads:
            return
        self._seen_reads.add(key)
        self.pending_audit.append(self.event(action, resource_type, resource_id, outcome))

    def read(self, resource_type: str, resource_id: uuid.UUID) -> None:
        self.record("read", resource_type, resource_id, "allowed")

    def take_pending(self) -> list[AuditEvent]:
        events, self.pending_audit = self.pending_audit, []
        return events


@dataclass
class UnitOfWork:
    """One transaction; audit events for its writes are appended just before it commits."""

    session: AsyncSession
    access: Access
    events: list[AuditEvent] = field(default_factory=list)

    def audit(self, action: str, resource_type: str, resource_id: uuid.UUID | str | None) -> None:
        self.events.append(self.access.event(action, resource_type, resource_id, "allowed"))


@asynccontextmanager
async def unit_of_work(database: Database, access: Access) -> AsyncIterator[UnitOfWork]:
    async with database.transaction() as session:
        work = UnitOfWork(session, access)
        yield work
        await append_events(session, work.events)
