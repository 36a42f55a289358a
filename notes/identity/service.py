"""From verified token claims to a Principal; and the idempotent demo setup for development."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal
from authz.tokens import Claims
from notes.identity.repository import IdentityRepository


async def resolve_principal(session: AsyncSession, claims: Claims) -> Principal | None:
    """The user the claims name, acting in one organization. None when unknown, inactive or without a role.

    A token matches a staff account by its subject, or else by a verified e-mail address.
    """
    repo = IdentityRepository(session)
    user = await repo.user_by_subject(claims.subject)
    if user is None and claims.email_verified and claims.email:
        user = await repo.user_by_email(claims.email)
    if user is None or not user.active:
        return None
    memberships = await repo.memberships(user.id)
    if not memberships:
        return None
    organizations = {org.slug: org for org, _ in memberships}
    if claims.organization is not None:
        organization = organizations.get(claims.organization)
        if organization is None:
            return None
    else:
        organization = memberships[0][0]
    roles = frozenset(role for org, role in memberships if org.id == organization.id)
    return Principal(kind="user", id=user.id, name=user.email, organization_id=organization.id, roles=roles)
