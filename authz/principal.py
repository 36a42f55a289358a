"""Who is asking: a signed-in user acting in one organization, or a named pipeline service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

Role = Literal["clinician", "scribe", "compliance", "admin", "transcriber", "extractor", "drafter"]
USER_ROLES: tuple[Role, ...] = ("clinician", "scribe", "compliance", "admin")
ANY_ORGANIZATION = "*"
# Pipeline workers act as these named services, each with one narrow role (see policy.csv).
SERVICE_ROLES: dict[str, Role] = {"transcriber": "transcriber", "extractor": "extractor", "drafter": "drafter"}


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["user", "service"]
    id: uuid.UUID | None  # the user's id; None for a service
    name: str  # the user's e-mail (staff identity, not patient data) or the service's name
    organization_id: uuid.UUID | None  # None for services, which act across organizations
    roles: frozenset[str]

    @property
    def subject(self) -> str:
        return f"user:{self.id}" if self.kind == "user" else f"service:{self.name}"

    @property
    def domain(self) -> str:
        return f"org:{self.organization_id}" if self.organization_id else ANY_ORGANIZATION

    @property
    def role_label(self) -> str:
        return ",".join(sorted(self.roles)) or "none"

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @classmethod
    def service(cls, name: str, role: Role) -> Principal:
        return cls(kind="service", id=None, name=name, organization_id=None, roles=frozenset({role}))


def organization_domain(organization_id: uuid.UUID) -> str:
    return f"org:{organization_id}"
