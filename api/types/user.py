from __future__ import annotations

import strawberry

from notes.identity.records import UserRecord


@strawberry.type(description="A member of staff.")
class User:
    id: strawberry.ID = strawberry.field(description="Stable identifier.")
    email: str = strawberry.field(description="Work e-mail address.")
    display_name: str = strawberry.field(description="Name shown in the interface.")

    @classmethod
    def of(cls, record: UserRecord) -> User:
        return cls(id=strawberry.ID(str(record.id)), email=record.email, display_name=record.display_name)


@strawberry.type(description="An organization (clinic): the boundary of all data and roles.")
class Organization:
    id: strawberry.ID = strawberry.field(description="Stable identifier.")
    slug: str = strawberry.field(description="Short unique name.")
    name: str = strawberry.field(description="Display name.")


@strawberry.type(description="The signed-in user, the organization they act in, and their roles there.")
class Me:
    user: User = strawberry.field(description="Who you are.")
    organization: Organization = strawberry.field(description="The organization this session acts in.")
    roles: list[str] = strawberry.field(description="Your roles in that organization.")
