"""The security audit trail: who touched which record, when, and whether it was allowed. Never content.

Rows are hash-chained: each row's hash covers the previous row's hash and its own fields, so an edit,
a deletion or a re-ordering anywhere breaks every later link (`verify_chain` finds the first).
Appends take a transaction-scoped advisory lock for the moment of the insert, which gives the
chain one order even with many writers; callers append as the last step before commit.

Two ways to append, same rows: `append_events` inside the caller's transaction (lock, read the head,
insert), and `append_after` for a writer that already knows the head it wrote last: one autocommit
statement that takes the lock and inserts. If anyone appended in between, the first new position is
taken and the primary key refuses the whole statement (nothing is written); the writer then falls back
to `append_events`. The chain can neither fork nor gap either way.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _json_string  # json.dumps' encoder (ensure_ascii)
from typing import Any, Literal

import asyncpg
from sqlalchemy import select, text
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


def _json(value: str | None) -> str:
    return "null" if value is None else _json_string(value)


def _canonical(position: int, event: AuditEvent) -> bytes:
    """The bytes a row's hash covers: exactly `json.dumps([position, occurred_at, actor_kind, actor_id,
    actor_name, actor_role, organization_id, action, resource_type, resource_id, outcome, request_id],
    separators=(",", ":"), ensure_ascii=True)`, written out with json's own string encoder (a third of
    the time: this runs for every audited record). tests/authz/test_audit_chain.py holds them equal."""
    occurred = event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    actor_id = str(event.actor_id) if event.actor_id else None
    organization_id = str(event.organization_id) if event.organization_id else None
    return (
        f"[{position:d},{_json(occurred)},{_json(event.actor_kind)},{_json(actor_id)},{_json(event.actor_name)},"
        f"{_json(event.actor_role)},{_json(organization_id)},{_json(event.action)},{_json(event.resource_type)},"
        f"{_json(event.resource_id)},{_json(event.outcome)},{_json(event.request_id)}]"
    ).encode()


def chain_hash(prev_hash: bytes, position: int, event: AuditEvent) -> bytes:
    return hashlib.sha256(prev_hash + _canonical(position, event)).digest()


# One statement whatever the batch size: each column travels as one array parameter (the order of
# `chain_columns`).
_INSERT_ROWS = """
INSERT INTO audit_events (position, occurred_at, actor_kind, actor_id, actor_name, actor_role, organization_id,
                          action, resource_type, resource_id, outcome, request_id, prev_hash, hash)
SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::uuid[],
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bytea[], $14::bytea[])
"""
# The same insert under the chain lock (taken before the first row is produced, held to the commit),
# so appenders that read the head under the lock never see this statement half done.
_INSERT_ROWS_LOCKED = """
INSERT INTO audit_events (position, occurred_at, actor_kind, actor_id, actor_name, actor_role, organization_id,
                          action, resource_type, resource_id, outcome, request_id, prev_hash, hash)
SELECT rows.* FROM (SELECT pg_advisory_xact_lock($1)) AS chain_lock,
     unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::uuid[],
            $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bytea[], $15::bytea[]) AS rows
"""
_CHAIN_HEAD = "SELECT position, hash FROM audit_events ORDER BY position DESC LIMIT 1"


def chain_columns(position: int, prev_hash: bytes, events: Sequence[AuditEvent]) -> list[list[Any]]:
    """The rows that continue a chain whose last row is (`position`, `prev_hash`), column by column."""
    columns: list[list[Any]] = [[] for _ in range(14)]
    (
        positions,
        occurred,
        kinds,
        actor_ids,
        actor_names,
        roles,
        organizations,
        actions,
        resource_types,
        resource_ids,
        outcomes,
        request_ids,
        prev_hashes,
        hashes,
    ) = columns
    for event in events:
        position += 1
        digest = chain_hash(prev_hash, position, event)
        positions.append(position)
        occurred.append(event.occurred_at)
        kinds.append(event.actor_kind)
        actor_ids.append(event.actor_id)
        actor_names.append(event.actor_name)
        roles.append(event.actor_role)
        organizations.append(event.organization_id)
        actions.append(event.action)
        resource_types.append(event.resource_type)
        resource_ids.append(event.resource_id)
        outcomes.append(event.outcome)
        request_ids.append(event.request_id)
        prev_hashes.append(prev_hash)
        hashes.append(digest)
        prev_hash = digest
    return columns


ChainHead = tuple[int, bytes]  # the last row's position and hash


async def append_events(session: AsyncSession | AsyncConnection, events: Sequence[AuditEvent]) -> ChainHead | None:
    """Append inside the caller's transaction; the rows commit (or roll back) with it. Returns the new head.

    The lock goes through SQLAlchemy, which also makes sure the transaction has begun; the head and the
    rows then go straight to asyncpg on the same connection (an ORM bulk insert cost ~20 µs per row in
    Python, more than the rest of a read request's audit)."""
    if not events:
        return None
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})
    connection = await session.connection() if isinstance(session, AsyncSession) else session
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    head = await driver.fetchrow(_CHAIN_HEAD)
    position, prev_hash = (head[0], bytes(head[1])) if head else (0, GENESIS_HASH)
    columns = chain_columns(position, prev_hash, events)
    await driver.execute(_INSERT_ROWS, *columns)
    return columns[0][-1], columns[-1][-1]


async def append_after(
    connection: asyncpg.Connection, head: ChainHead, events: Sequence[AuditEvent]
) -> ChainHead | None:
    """Append right after `head` in one autocommit statement (durable when it returns); the new head, or
    None when `head` is no longer the last row (someone else appended: nothing was written)."""
    if not events:
        return head
    columns = chain_columns(head[0], head[1], events)
    try:
        await connection.execute(_INSERT_ROWS_LOCKED, _AUDIT_LOCK_KEY, *columns)
    except asyncpg.UniqueViolationError:
        return None
    return columns[0][-1], columns[-1][-1]


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
