"""The audit trail's table. Append-only (a database trigger refuses UPDATE, DELETE and TRUNCATE)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    # Gapless chain position, assigned under an advisory lock so the hash chain has one order.
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_kind: Mapped[str] = mapped_column(String(16))  # user | service | anonymous
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_name: Mapped[str | None] = mapped_column(String(320))  # staff e-mail or service name, never a patient's
    actor_role: Mapped[str] = mapped_column(String(120))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # allowed | denied | error
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (
        Index("ix_audit_events_org_position", "organization_id", "position"),
        Index("ix_audit_events_resource", "resource_type", "resource_id"),
    )
