"""The security audit trail: who touched which record, when, and whether it was allowed. Never content.

Rows are hash-chained: each row's hash covers the previous row's hash and its own fields, so an edit,
a deletion or a re-ordering anywhere breaks every later link (`verify_chain` finds the first).
Appends take a transaction-scoped advisory lock for the moment of the insert, which gives the
chain one order even with many writers; callers append as the last step before commit.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from authz.models import AuditEventRow
from authz.principal import Principal
from core.pagination import Page, PageRequest

Outcome = Literal["allowed", "denied", "error"]
GENESIS_HASH = bytes(32)
_AUDIT_LOCK_KEY = 0x61756469  # "audi": the advisory lock serialising chain appends


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    action: str  # read | create | update | sign | subscribe | ...
    resource_type: str  # patient | encounter | recording | ...
    resource_id: str | None
    outcome: Outcome
    actor_kind: str = "anonymous"
    actor_id: uuid.UUID | None = None
    actor_name: str | None = None
    actor_role: str = "none"
    organization_id: uuid.UUID | None = None
    request_id: str | None = None
    occurred_at: datetime = field(default_factory=utcnow)

    @classmethod
    def of(
        cls,
        principal: Principal | None,
        action: str,
        resource_type: str,
        resource_id: str | uuid.UUID | None,
        outcome: Outcome,
        request_id: str | None,
    ) -> AuditEvent:
        return cls(
            action=action,
            resource_type=resource_type,
            resource_id=_safe_resource_id(resource_id),
            outcome=outcome,
            actor_kind=principal.kind if principal else "anonymous",
            actor_id=principal.id if principal else None,
            actor_name=principal.name if principal else None,
            actor_role=principal.role_label if principal else "none",
            organization_id=principal.organization_id if principal else None,
            request_id=request_id,
        )


def _safe_resource_id(value: str | uuid.UUID | None) -> str | None:
    """Only identifiers reach the trail: a client-supplied id that is not a UUID is dropped (it could be anything)."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


def _canonical(position: int, event: AuditEvent) -> bytes:
    fields = [
        position,
        event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        event.actor_kind,
        str(event.actor_id) if event.actor_id else None,
        event.actor_name,
        event.actor_role,
        str(event.organization_id) if event.organization_id else None,
        event.action,
        event.resource_type,
        event.resource_id,
        event.outcome,
        event.request_id,
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode()


def chain_hash(prev_hash: bytes, position: int, event: AuditEvent) -> bytes:
    return hashlib.sha256(prev_hash + _canonical(position, event)).digest()


async def append_events(session: AsyncSession | AsyncConnection, events: Sequence[AuditEvent]) -> None:
    """Append inside the caller's transaction; the rows commit (or roll back) with it."""
    if not events:
        return
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})
    head = (
        await session.execute(
            select(AuditEventRow.position, AuditEventRow.hash).order_by(AuditEventRow.position.desc()).limit(1)
        )
    ).first()
    position, prev_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
    rows = []
    for event in events:
        position += 1
        digest = chain_hash(prev_hash, position, event)
        rows.append(
            {
                "position": position,
                "occurred_at": event.occurred_at,
                "actor_kind": event.actor_kind,
                "actor_id": event.actor_id,
                "actor_name": event.actor_name,
                "actor_role": event.actor_role,
                "organization_id": event.organization_id,
                "action": event.action,
                "resource_type": event.resource_type,
                "resource_id": event.resource_id,
                "outcome": event.outcome,
                "request_id": event.request_id,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    await session.execute(insert(AuditEventRow), rows)


def row_to_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        action=row.action,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        outcome=row.outcome,  # type: ignore[arg-type]
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        actor_role=row.actor_role,
        organization_id=row.organization_id,
        request_id=row.request_id,
        occurred_at=row.occurred_at,
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    first_broken_position: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_position is None


async def verify_chain(session: AsyncSession, batch: int = 5_000) -> ChainReport:
    expected_position, prev_hash, checked = 1, GENESIS_HASH, 0
    while True:
        rows: Iterable[AuditEventRow] = (
            await session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.position >= expected_position)
                .order_by(AuditEventRow.position)
                .limit(batch)
            )
        ).all()
        count = 0
        for row in rows:
            count += 1
            if row.position != expected_position:
                return ChainReport(checked, expected_position, "a row is missing")
            if row.prev_hash != prev_hash:
                return ChainReport(checked, row.position, "the link to the previous row is broken")
            if chain_hash(prev_hash, row.position, row_to_event(row)) != row.hash:
                return ChainReport(checked, row.position, "the row's content does not match its hash")
            prev_hash, expected_position, checked = row.hash, expected_position + 1, checked + 1
        if count < batch:
            return ChainReport(checked, None, None)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor_id: uuid.UUID | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    action: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_events(
    session: AsyncSession, organization_id: uuid.UUID, page: PageRequest[int], where: AuditFilter
) -> Page[AuditEventRow]:
    """One organization's trail, oldest first. Events of unauthenticated callers belong to no organization."""
    query = select(AuditEventRow).where(AuditEventRow.organization_id == organization_id)
    if where.actor_id is not None:
        query = query.where(AuditEventRow.actor_id == where.actor_id)
    if where.resource_type is not None:
        query = query.where(AuditEventRow.resource_type == where.resource_type)
    if where.resource_id is not None:
        query = query.where(AuditEventRow.resource_id == where.resource_id)
    if where.action is not None:
        query = query.where(AuditEventRow.action == where.action)
    if where.outcome is not None:
        query = query.where(AuditEventRow.outcome == where.outcome)
    if where.since is not None:
        query = query.where(AuditEventRow.occurred_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEventRow.occurred_at < where.until)
    if page.after is not None:
        query = query.where(AuditEventRow.position > page.after)
    rows = (await session.scalars(query.order_by(AuditEventRow.position).limit(page.first + 1))).all()
    return Page.from_rows(rows, page.first)
