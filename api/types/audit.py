from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from authz.models import AuditEventRow


@strawberry.enum(description="What came of an audited attempt.")
class AuditOutcome(Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    ERROR = "error"


@strawberry.type(description="One entry of the append-only, hash-chained security audit trail. Never content.")
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="Position in the chain (gapless, increasing), as a string.")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    actor_kind: str = strawberry.field(description="user, service or anonymous.")
    actor_id: strawberry.ID | None = strawberry.field(description="The user's id.")
    actor_name: str | None = strawberry.field(description="Staff e-mail or service name.")
    actor_role: str = strawberry.field(description="Roles held at the time.")
    action: str = strawberry.field(description="read, create, update, sign, ...")
    resource_type: str = strawberry.field(description="patient, encounter, recording, ...")
    resource_id: strawberry.ID | None = strawberry.field(description="The record's id, when there was one.")
    outcome: AuditOutcome = strawberry.field(description="allowed, denied or error.")
    request_id: str | None = strawberry.field(description="Correlates with the X-Request-ID response header.")
    hash: str = strawberry.field(description="SHA-256 chain hash of this entry, hex.")
    prev_hash: str = strawberry.field(description="The previous entry's chain hash, hex.")

    @classmethod
    def of(cls, row: AuditEventRow) -> AuditEvent:
        return cls(
            id=strawberry.ID(str(row.position)),
            occurred_at=row.occurred_at,
            actor_kind=row.actor_kind,
            actor_id=strawberry.ID(str(row.actor_id)) if row.actor_id else None,
            actor_name=row.actor_name,
            actor_role=row.actor_role,
            action=row.action,
            resource_type=row.resource_type,
            resource_id=strawberry.ID(row.resource_id) if row.resource_id else None,
            outcome=AuditOutcome(row.outcome),
            request_id=row.request_id,
            hash=row.hash.hex(),
            prev_hash=row.prev_hash.hex(),
        )
