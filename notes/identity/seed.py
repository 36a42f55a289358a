"""The development demo setup, created idempotently by `ambient serve` in development."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notes.identity.repository import IdentityRepository

DEMO_ORGANIZATIONS = {"demo": "Demo Clinic", "other": "Other Clinic"}
DEMO_USERS = [
    # (organization slug, e-mail, display name, role)
    ("demo", "dr.lee@demo.test", "Dr. Lee", "clinician"),
    ("demo", "dr.kim@demo.test", "Dr. Kim", "clinician"),
    ("demo", "scribe@demo.test", "Demo Scribe", "scribe"),
    ("demo", "audit@demo.test", "Compliance Officer", "compliance"),
    ("demo", "admin@demo.test", "Clinic Administrator", "admin"),
    ("other", "dr.other@other.test", "Dr. Other", "clinician"),
]
DEMO_SCRIBE_ASSIGNMENTS = [("demo", "scribe@demo.test", "dr.lee@demo.test")]


async def seed_demo(session: AsyncSession) -> None:
    repo = IdentityRepository(session)
    organizations = {slug: await repo.ensure_organization(slug, name) for slug, name in DEMO_ORGANIZATIONS.items()}
    users = {}
    for slug, email, display_name, role in DEMO_USERS:
        users[email] = await repo.ensure_user(email, display_name)
        await repo.ensure_membership(users[email], organizations[slug], role)
    for slug, scribe, clinician in DEMO_SCRIBE_ASSIGNMENTS:
        await repo.ensure_scribe_assignment(organizations[slug], users[scribe], users[clinician])
