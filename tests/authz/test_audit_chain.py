"""The audit trail: hash-chained, append-only in the database, verified link by link."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from authz.audit import AuditEvent, append_events, verify_chain
from authz.audit_writer import AuditWriter
from authz.models import AuditEventRow
from core.db import Database


def _event(i: int) -> AuditEvent:
    return AuditEvent(
        action="read",
        resource_type="patient",
        resource_id=str(uuid.uuid4()),
        outcome="allowed",
        request_id=f"r{i}",
    )


async def _append(database: Database, count: int) -> None:
    async with database.transaction() as session:
        await append_events(session, [_event(i) for i in range(count)])


async def test_chain_verifies_and_the_first_broken_link_is_reported(database: Database) -> None:
    await _append(database, 5)
    await _append(database, 3)
    async with database.session() as session:
        report = await verify_chain(session)
    assert report.ok and report.checked == 8

    async with database.transaction() as session:  # an attacker with table access bypasses the trigger
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text("UPDATE audit_events SET outcome = 'denied' WHERE position = 4"))
    async with database.session() as session:
        report = await verify_chain(session)
    assert (report.ok, report.first_broken_position, report.checked) == (False, 4, 3)


async def test_a_deleted_row_breaks_the_chain(database: Database) -> None:
    await _append(database, 6)
    async with database.transaction() as session:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text("DELETE FROM audit_events WHERE position = 2"))
    async with database.session() as session:
        report = await verify_chain(session)
    assert report.first_broken_position == 2


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET outcome = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"],
)
async def test_the_database_refuses_changes_to_the_trail(database: Database, statement: str) -> None:
    await _append(database, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.transaction() as session:
            await session.execute(text(statement))


async def test_concurrent_writers_keep_one_gapless_chain(database: Database) -> None:
    writer = AuditWriter(database)
    await writer.start()
    try:
        await asyncio.gather(
            *(writer.write([_event(i), _event(i)]) for i in range(40)),
            *(_append(database, 2) for _ in range(10)),
        )
    finally:
        await writer.stop()
    async with database.session() as session:
        count = await session.scalar(select(func.count()).select_from(AuditEventRow))
        report = await verify_chain(session)
    assert count == 100
    assert report.ok and report.checked == 100


async def test_a_failed_batch_fails_its_waiters_instead_of_dropping_events(database: Database) -> None:
    class Broken(Database):
        def transaction(self):  # type: ignore[no-untyped-def]
            raise ConnectionError("database is gone")

    writer = AuditWriter(Broken(database.engine, database.sessions))
    await writer.start()
    try:
        with pytest.raises(ConnectionError):
            await writer.write([_event(1)])
    finally:
        writer._closing = True
        writer._wakeup.set()


def test_the_hashed_bytes_are_the_json_array_they_always_were() -> None:
    """Rows written before must keep verifying: the canonical form is this exact JSON encoding."""
    import json
    import random
    from datetime import UTC, datetime, timedelta, timezone

    from authz.audit import _canonical

    rng = random.Random(5)
    texts = [None, "", "x@demo.test", 'quote " and \\ backslash', "tab\tnewline\n", "ünïcødé ✓", "\x00\x1f\u2028"]
    for position in (1, 7, 10**12):
        for _ in range(200):
            event = AuditEvent(
                action=rng.choice(["read", "create", "sign"]),
                resource_type=rng.choice(["patient", "note", "audit_event"]),
                resource_id=rng.choice([None, str(uuid.uuid4())]),
                outcome=rng.choice(["allowed", "denied", "error"]),
                actor_kind=rng.choice(["user", "service", "anonymous"]),
                actor_id=rng.choice([None, uuid.uuid4()]),
                actor_name=rng.choice(texts),
                actor_role=rng.choice(["clinician", "none", "clinician,scribe"]),
                organization_id=rng.choice([None, uuid.uuid4()]),
                request_id=rng.choice(texts),
                occurred_at=datetime(2026, 1, 2, 3, 4, 5, rng.randrange(10**6), tzinfo=timezone(timedelta(hours=2)))
                + timedelta(seconds=rng.randrange(10**6)),
            )
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
            assert _canonical(position, event) == json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode()
