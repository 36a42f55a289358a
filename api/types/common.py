"""Cursor connections, shared by every list in the API."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from core.pagination import Page, encode_cursor

NodeT = TypeVar("NodeT")
RecordT = TypeVar("RecordT")


@strawberry.type(description="Where a page ends and whether another follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when `after: endCursor` returns more.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` to get the next page.")


@strawberry.type(description="One item of a list, with the cursor that points at it.")
class Edge(Generic[NodeT]):
    node: NodeT = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Opaque position of this item.")


@strawberry.type(description="A page of a list.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="Paging state.")

    @classmethod
    def of(
        cls,
        page: Page[RecordT],
        convert: Callable[[RecordT], NodeT],
        key: Callable[[RecordT], uuid.UUID | int],
    ) -> Connection[NodeT]:
        items: Sequence[RecordT] = page.items
        edges = [Edge(node=convert(item), cursor=encode_cursor(key(item))) for item in items]
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
        )


def parse_id(value: strawberry.ID | str | None) -> uuid.UUID | None:
    """Client-supplied ids: anything that is not a UUID simply names nothing."""
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
