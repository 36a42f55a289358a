"""All SQL about recordings. Callers reach recordings through an encounter they may see."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, Select, Uuid, any_, bindparam, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal
from core.crypto import WrappedKey
from core.db import Rows
from notes.encounters.models import Encounter
from notes.recordings.models import Recording
from notes.recordings.records import RecordingRecord
from notes.scoping import encounter_visible

_COLUMNS = (
    Recording.id,
    Recording.encounter_id,
    Recording.organization_id,
    Recording.storage_key,
    Recording.key_id,
    Recording.key_nonce,
    Recording.wrapped_key,
    Recording.sha256,
    Recording.byte_size,
    Recording.content_type,
    Recording.duration_seconds,
    Recording.channels,
    Recording.sample_rate,
    Recording.idempotency_key,
    Recording.created_at,
    Recording.source,
    Recording.channel_speakers,
)


def _record(row: Row[*tuple[Any, ...]]) -> RecordingRecord:
    return _from_mapping(row._mapping)


def _from_mapping(row: Mapping[Any, Any]) -> RecordingRecord:
    values = dict(row)
    wrapped = WrappedKey(values.pop("key_id"), values.pop("key_nonce"), values.pop("wrapped_key"))
    return RecordingRecord(wrapped_key=wrapped, **values)


def _visible(principal: Principal) -> Select[*tuple[Any, ...]]:
    return select(*_COLUMNS).join(Encounter, Encounter.id == Recording.encounter_id).where(encounter_visible(principal))


class RecordingReads:
    """The API's recording lists, scoped through their encounter, built once per caller and run on the
    request's read connection (see core.db.StatementCache)."""

    def __init__(self, rows: Rows, principal: Principal) -> None:
        self.rows = rows
        self.principal = principal

    async def by_encounters(self, encounter_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[RecordingRecord]]:
        if not encounter_ids:
            return {}
        principal = self.principal
        rows = await self.rows.fetch(
            ("recordings.by_encounters", principal),
            lambda: (
                _visible(principal)
                .where(Recording.encounter_id == any_(bindparam("ids", type_=ARRAY(Uuid))))
                .order_by(Recording.id)
            ),
            {"ids": list(encounter_ids)},
        )
        grouped: dict[uuid.UUID, list[RecordingRecord]] = defaultdict(list)
        for row in rows:
            grouped[row["encounter_id"]].append(_from_mapping(row))
        return grouped


class RecordingRepository:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def _visible(self) -> Select[*tuple[Any, ...]]:
        return _visible(self.principal)

    async def get(self, recording_id: uuid.UUID) -> RecordingRecord | None:
        row = (await self.session.execute(self._visible().where(Recording.id == recording_id))).first()
        return _record(row) if row else None

    async def by_idempotency_key(self, encounter_id: uuid.UUID, key: str) -> RecordingRecord | None:
        row = (
            await self.session.execute(
                self._visible().where(Recording.encounter_id == encounter_id, Recording.idempotency_key == key)
            )
        ).first()
        return _record(row) if row else None

    async def create(
        self,
        *,
        recording_id: uuid.UUID,
        encounter_id: uuid.UUID,
        organization_id: uuid.UUID,
        storage_key: str,
        wrapped_key: WrappedKey,
        sha256: str,
        byte_size: int,
        content_type: str,
        duration_seconds: float,
        channels: int,
        sample_rate: int,
        idempotency_key: str | None,
        created_by: uuid.UUID | None,
        source: str = "upload",
        channel_speakers: str = "clinician,patient",
    ) -> RecordingRecord:
        row = (
            await self.session.execute(
                insert(Recording)
                .values(
                    id=recording_id,
                    encounter_id=encounter_id,
                    organization_id=organization_id,
                    storage_key=storage_key,
                    key_id=wrapped_key.key_id,
                    key_nonce=wrapped_key.nonce,
                    wrapped_key=wrapped_key.ciphertext,
                    sha256=sha256,
                    byte_size=byte_size,
                    content_type=content_type,
                    duration_seconds=duration_seconds,
                    channels=channels,
                    sample_rate=sample_rate,
                    idempotency_key=idempotency_key,
                    created_by=created_by,
                    source=source,
                    channel_speakers=channel_speakers,
                )
                .returning(*_COLUMNS)
            )
        ).one()
        return _record(row)
