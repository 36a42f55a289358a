from __future__ import annotations

import time

from sqlalchemy import update

from authz.tokens import Claims
from core.db import Database
from notes.identity.models import Membership, User
from notes.identity.repository import IdentityRepository
from notes.identity.service import resolve_principal


def _claims(subject: str, email: str | None, *, verified: bool = True, organization: str | None = None) -> Claims:
    return Claims(
        subject=subject, email=email, organization=organization, expires_at=time.time() + 60, email_verified=verified
    )


async def test_a_token_resolves_to_the_staff_account_and_its_roles(database: Database) -> None:
    async with database.session() as session:
        principal = await resolve_principal(session, _claims("dr.lee@demo.test", "dr.lee@demo.test"))
    assert principal is not None and principal.roles == {"clinician"} and principal.kind == "user"


async def test_an_unverified_email_never_links_to_an_account(database: Database) -> None:
    async with database.session() as session:
        assert await resolve_principal(session, _claims("idp|evil", "dr.lee@demo.test", verified=False)) is None


async def test_inactive_users_and_users_without_roles_are_refused(database: Database) -> None:
    async with database.transaction() as session:
        await session.execute(update(User).where(User.email == "dr.kim@demo.test").values(active=False))
        lonely = await IdentityRepository(session).ensure_user("lonely@demo.test", "No Role")
    async with database.session() as session:
        assert await resolve_principal(session, _claims("dr.kim@demo.test", "dr.kim@demo.test")) is None
        assert await resolve_principal(session, _claims("lonely@demo.test", "lonely@demo.test")) is None
    assert lonely is not None


async def test_a_user_in_two_organizations_acts_in_the_one_the_token_names(database: Database) -> None:
    async with database.transaction() as session:
        repo = IdentityRepository(session)
        other = await repo.ensure_organization("other", "Other Clinic")
        lee = await repo.ensure_user("dr.lee@demo.test", "Dr. Lee")
        await repo.ensure_membership(lee, other, "compliance")
    async with database.session() as session:
        default = await resolve_principal(session, _claims("dr.lee@demo.test", "dr.lee@demo.test"))
        chosen = await resolve_principal(session, _claims("dr.lee@demo.test", "dr.lee@demo.test", organization="other"))
        stranger = await resolve_principal(
            session, _claims("dr.lee@demo.test", "dr.lee@demo.test", organization="nope")
        )
    assert default is not None and default.roles == {"clinician"}
    assert chosen is not None and chosen.roles == {"compliance"} and chosen.organization_id == other
    assert stranger is None
    async with database.session() as session:
        assert len((await session.execute(Membership.__table__.select())).all()) == 7
