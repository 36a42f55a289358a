"""Cursor pagination over an ordered key (time-ordered UUIDs, or a bigint position).

The cursor is an opaque token for the last key the client saw; pages are `first + 1` fetches whose
extra row only says whether there is a next page.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K", uuid.UUID, int)
_UUID_PREFIX = b"c1:"
_INT_PREFIX = b"c2:"


class InvalidCursor(ValueError):
    pass


def encode_cursor(key: uuid.UUID | int) -> str:
    raw = _UUID_PREFIX + key.bytes if isinstance(key, uuid.UUID) else _INT_PREFIX + str(key).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("malformed cursor") from exc


def decode_uuid_cursor(cursor: str) -> uuid.UUID:
    raw = _decode(cursor)
    if not raw.startswith(_UUID_PREFIX) or len(raw) != len(_UUID_PREFIX) + 16:
        raise InvalidCursor("malformed cursor")
    return uuid.UUID(bytes=raw[len(_UUID_PREFIX) :])


def decode_int_cursor(cursor: str) -> int:
    raw = _decode(cursor)
    if not raw.startswith(_INT_PREFIX) or not raw[len(_INT_PREFIX) :].isdigit():
        raise InvalidCursor("malformed cursor")
    return int(raw[len(_INT_PREFIX) :])


@dataclass(frozen=True)
class PageRequest(Generic[K]):
    first: int
    after: K | None

    @staticmethod
    def clamp(first: int | None, *, default: int, maximum: int) -> int:
        size = default if first is None else first
        if size < 0:
            raise InvalidCursor("`first` must not be negative")
        return min(size, maximum)

    @classmethod
    def by_uuid(cls, first: int | None, after: str | None, *, default: int, maximum: int) -> PageRequest[uuid.UUID]:
        return PageRequest(
            PageRequest.clamp(first, default=default, maximum=maximum),
            decode_uuid_cursor(after) if after else None,
        )

    @classmethod
    def by_position(cls, first: int | None, after: str | None, *, default: int, maximum: int) -> PageRequest[int]:
        return PageRequest(
            PageRequest.clamp(first, default=default, maximum=maximum),
            decode_int_cursor(after) if after else None,
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next: bool

    @classmethod
    def from_rows(cls, rows: Sequence[T], first: int) -> Page[T]:
        return cls(items=rows[:first], has_next=len(rows) > first)
