"""All SQL about live-recording chunks, reached through an encounter the principal may see."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal
from core.crypto import WrappedKey
from notes.encounters.models import Encounter
from notes.recordings.models import RecordingChunk
from notes.recordings.records import ChunkRecord
from notes.scoping import encounter_visible

_COLUMNS = tuple(RecordingChunk.__table__.c)


def _record(row: Row[*tuple[Any, ...]]) -> ChunkRecord:
    values = dict(row._mapping)
    wrapped = WrappedKey(values.pop("key_id"), values.pop("key_nonce"), values.pop("wrapped_key"))
    values.pop("created_by")
    return ChunkRecord(wrapped_key=wrapped, **values)


class ChunkRepository:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def _visible(self) -> Select[*tuple[Any, ...]]:
        return (
            select(*_COLUMNS)
            .join(Encounter, Encounter.id == RecordingChunk.encounter_id)
            .where(encounter_visible(self.principal))
        )

    async def get(self, encounter_id: uuid.UUID, sequence: int) -> ChunkRecord | None:
        row = (
            await self.session.execute(
                self._visible().where(RecordingChunk.encounter_id == encounter_id, RecordingChunk.sequence == sequence)
            )
        ).first()
        return _record(row) if row else None

    async def all(self, encounter_id: uuid.UUID) -> list[ChunkRecord]:
        rows = await self.session.execute(
            self._visible().where(RecordingChunk.encounter_id == encounter_id).order_by(RecordingChunk.sequence)
        )
        return [_record(row) for row in rows]

    async def sequences(self, encounter_id: uuid.UUID) -> list[int]:
        rows = await self.session.scalars(
            select(RecordingChunk.sequence)
            .where(RecordingChunk.encounter_id == encounter_id)
            .order_by(RecordingChunk.sequence)
        )
        return list(rows)

    async def total_seconds(self, encounter_id: uuid.UUID) -> float:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(RecordingChunk.duration_seconds), 0.0)).where(
                RecordingChunk.encounter_id == encounter_id
            )
        )
        return float(total or 0.0)

    async def create(self, *, created_by: uuid.UUID | None, chunk: ChunkRecord) -> ChunkRecord:
        row = (
            await self.session.execute(
                insert(RecordingChunk)
                .values(
                    id=chunk.id,
                    encounter_id=chunk.encounter_id,
                    organization_id=chunk.organization_id,
                    sequence=chunk.sequence,
                    storage_key=chunk.storage_key,
                    key_id=chunk.wrapped_key.key_id,
                    key_nonce=chunk.wrapped_key.nonce,
                    wrapped_key=chunk.wrapped_key.ciphertext,
                    sha256=chunk.sha256,
                    byte_size=chunk.byte_size,
                    content_type=chunk.content_type,
                    duration_seconds=chunk.duration_seconds,
                    channels=chunk.channels,
                    sample_rate=chunk.sample_rate,
                    created_by=created_by,
                )
                .returning(*_COLUMNS)
            )
        ).one()
        return _record(row)
