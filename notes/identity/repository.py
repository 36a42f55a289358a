"""All SQL about organizations, users, memberships and scribe assignments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from authz.authorizer import RoleAssignment
from authz.principal import organization_domain
from core.ids import new_id
from core.pagination import Page
from notes.identity.models import Membership, Organization, ScribeAssignment, User
from notes.identity.records import OrganizationRecord, UserRecord


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user_by_email(self, email: str) -> UserRecord | None:
        row = (
            await self.session.execute(
                select(User.id, User.email, User.display_name, User.active).where(User.email == email.lower())
            )
        ).first()
        return UserRecord(**row._mapping) if row else None

    async def user_by_subject(self, subject: str) -> UserRecord | None:
        row = (
            await self.session.execute(
                select(User.id, User.email, User.display_name, User.active).where(User.external_subject == subject)
            )
        ).first()
        return UserRecord(**row._mapping) if row else None

    async def users_in_organization(
        self, organization_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, UserRecord]:
        """Staff of one organization only, so a user of another organization never resolves."""
        if not ids:
            return {}
        rows = await self.session.execute(
            select(User.id, User.email, User.display_name, User.active)
            .where(User.id.in_(ids))
            .where(
                select(Membership.id)
                .where(Membership.user_id == User.id, Membership.organization_id == organization_id)
                .exists()
            )
        )
        return {row.id: UserRecord(**row._mapping) for row in rows}

    async def staff_page(self, organization_id: uuid.UUID, first: int, after: uuid.UUID | None) -> Page[UserRecord]:
        query = (
            select(User.id, User.email, User.display_name, User.active)
            .where(
                select(Membership.id)
                .where(Membership.user_id == User.id, Membership.organization_id == organization_id)
                .exists()
            )
            .order_by(User.id)
            .limit(first + 1)
        )
        if after is not None:
            query = query.where(User.id > after)
        rows = (await self.session.execute(query)).all()
        return Page.from_rows([UserRecord(**row._mapping) for row in rows], first)

    async def memberships(self, user_id: uuid.UUID) -> list[tuple[OrganizationRecord, str]]:
        rows = await self.session.execute(
            select(Organization.id, Organization.slug, Organization.name, Membership.role)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at, Organization.slug)
        )
        return [(OrganizationRecord(row.id, row.slug, row.name), row.role) for row in rows]

    async def roles_in(self, user_id: uuid.UUID, organization_id: uuid.UUID) -> set[str]:
        rows = await self.session.scalars(
            select(Membership.role).where(Membership.user_id == user_id, Membership.organization_id == organization_id)
        )
        return set(rows)

    async def assigned_clinicians(self, scribe_id: uuid.UUID, organization_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(ScribeAssignment.clinician_id).where(
                ScribeAssignment.scribe_id == scribe_id, ScribeAssignment.organization_id == organization_id
            )
        )
        return list(rows)

    async def all_role_assignments(self) -> list[RoleAssignment]:
        rows = await self.session.execute(select(Membership.user_id, Membership.role, Membership.organization_id))
        return [
            RoleAssignment(f"user:{row.user_id}", row.role, organization_domain(row.organization_id)) for row in rows
        ]

    # -- writes (seeding, administration) -----------------------------------------------------------
    async def ensure_organization(self, slug: str, name: str) -> uuid.UUID:
        await self.session.execute(
            pg_insert(Organization).values(id=new_id(), slug=slug, name=name).on_conflict_do_nothing()
        )
        found = await self.session.scalar(select(Organization.id).where(Organization.slug == slug))
        assert found is not None
        return found

    async def ensure_user(self, email: str, display_name: str) -> uuid.UUID:
        await self.session.execute(
            pg_insert(User).values(id=new_id(), email=email.lower(), display_name=display_name).on_conflict_do_nothing()
        )
        found = await self.session.scalar(select(User.id).where(User.email == email.lower()))
        assert found is not None
        return found

    async def ensure_membership(self, user_id: uuid.UUID, organization_id: uuid.UUID, role: str) -> None:
        await self.session.execute(
            pg_insert(Membership)
            .values(id=new_id(), user_id=user_id, organization_id=organization_id, role=role)
            .on_conflict_do_nothing()
        )

    async def ensure_scribe_assignment(
        self, organization_id: uuid.UUID, scribe_id: uuid.UUID, clinician_id: uuid.UUID
    ) -> None:
        await self.session.execute(
            pg_insert(ScribeAssignment)
            .values(organization_id=organization_id, scribe_id=scribe_id, clinician_id=clinician_id)
            .on_conflict_do_nothing()
        )
