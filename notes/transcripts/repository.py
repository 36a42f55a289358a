"""All SQL about transcripts and their segments. Reads go through an encounter the principal may see."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal
from core.ids import new_id
from core.pagination import Page, PageRequest
from notes.encounters.models import Encounter
from notes.scoping import encounter_visible
from notes.transcripts.models import Transcript, TranscriptSegment
from notes.transcripts.records import SegmentRecord, TranscriptRecord, WordRecord
from notes.transcripts.status import TranscriptStatus
from transcription.types import EngineInfo, Segment

_TRANSCRIPT = tuple(Transcript.__table__.c)
_SEGMENT = tuple(TranscriptSegment.__table__.c)


def transcript_record(row: Row[*tuple[Any, ...]]) -> TranscriptRecord:
    values = dict(row._mapping)
    values["status"] = TranscriptStatus(values["status"])
    return TranscriptRecord(**values)


def segment_record(row: Row[*tuple[Any, ...]]) -> SegmentRecord:
    values = dict(row._mapping)
    values["words"] = tuple(WordRecord(str(w[0]), int(w[1]), int(w[2]), float(w[3])) for w in values["words"])
    return SegmentRecord(**values)


def _words(segment: Segment) -> list[list[Any]]:
    return [[w.text, w.start_ms, w.end_ms, round(w.probability, 4)] for w in segment.words]


class TranscriptRepository:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def _visible(self) -> Select[*tuple[Any, ...]]:
        return (
            select(*_TRANSCRIPT)
            .join(Encounter, Encounter.id == Transcript.encounter_id)
            .where(encounter_visible(self.principal))
        )

    # -- reads -----------------------------------------------------------------------------------------
    async def get(self, transcript_id: uuid.UUID, *, for_update: bool = False) -> TranscriptRecord | None:
        query = self._visible().where(Transcript.id == transcript_id)
        if for_update:
            query = query.with_for_update(of=Transcript)
        row = (await self.session.execute(query)).first()
        return transcript_record(row) if row else None

    async def latest_for_encounters(self, encounter_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, TranscriptRecord]:
        """Each encounter's current transcript: the newest one."""
        if not encounter_ids:
            return {}
        query = (
            self._visible()
            .where(Transcript.encounter_id.in_(encounter_ids))
            .order_by(Transcript.encounter_id, Transcript.created_at.desc(), Transcript.id.desc())
            .ext(distinct_on(Transcript.encounter_id))
        )
        return {row.encounter_id: transcript_record(row) for row in await self.session.execute(query)}

    async def for_recording(self, recording_id: uuid.UUID, *, for_update: bool = False) -> TranscriptRecord | None:
        query = self._visible().where(Transcript.recording_id == recording_id)
        if for_update:
            query = query.with_for_update(of=Transcript)
        row = (await self.session.execute(query)).first()
        return transcript_record(row) if row else None

    async def open_live(self, encounter_id: uuid.UUID, *, for_update: bool = False) -> TranscriptRecord | None:
        query = self._visible().where(
            Transcript.encounter_id == encounter_id, Transcript.live.is_(True), Transcript.finished.is_(False)
        )
        if for_update:
            query = query.with_for_update(of=Transcript)
        row = (await self.session.execute(query)).first()
        return transcript_record(row) if row else None

    async def live_in_progress(self, encounter_id: uuid.UUID) -> TranscriptRecord | None:
        """The encounter's live transcript that still has work: chunks to transcribe or completion."""
        row = (
            await self.session.execute(
                self._visible()
                .where(
                    Transcript.encounter_id == encounter_id,
                    Transcript.live.is_(True),
                    Transcript.status.not_in(
                        [s.value for s in (TranscriptStatus.DONE, TranscriptStatus.EMPTY, TranscriptStatus.FAILED)]
                    ),
                )
                .order_by(Transcript.created_at.desc())
                .limit(1)
            )
        ).first()
        return transcript_record(row) if row else None

    async def segments(self, transcript_id: uuid.UUID, page: PageRequest[int]) -> Page[SegmentRecord]:
        query = select(*_SEGMENT).where(TranscriptSegment.transcript_id == transcript_id)
        if page.after is not None:
            query = query.where(TranscriptSegment.index > page.after)
        rows = (await self.session.execute(query.order_by(TranscriptSegment.index).limit(page.first + 1))).all()
        return Page.from_rows([segment_record(r) for r in rows], page.first)

    async def all_segments(self, transcript_id: uuid.UUID) -> list[SegmentRecord]:
        rows = await self.session.execute(
            select(*_SEGMENT).where(TranscriptSegment.transcript_id == transcript_id).order_by(TranscriptSegment.index)
        )
        return [segment_record(r) for r in rows]

    async def segments_by_id(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SegmentRecord]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(*_SEGMENT)
            .join(Transcript, Transcript.id == TranscriptSegment.transcript_id)
            .join(Encounter, Encounter.id == Transcript.encounter_id)
            .where(TranscriptSegment.id.in_(ids), encounter_visible(self.principal))
        )
        return {row.id: segment_record(row) for row in rows}

    async def texts(self, transcript_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Each transcript's full text, segments joined in order (computed, not stored twice)."""
        if not transcript_ids:
            return {}
        rows = await self.session.execute(
            select(
                TranscriptSegment.transcript_id,
                func.string_agg(
                    TranscriptSegment.text, aggregate_order_by(literal(" "), TranscriptSegment.index)
                ).label("text"),
            )
            .where(TranscriptSegment.transcript_id.in_(transcript_ids))
            .group_by(TranscriptSegment.transcript_id)
        )
        return {row.transcript_id: row.text for row in rows}

    # -- writes (pipeline) -----------------------------------------------------------------------------
    async def create(
        self,
        *,
        encounter_id: uuid.UUID,
        organization_id: uuid.UUID,
        recording_id: uuid.UUID | None,
        live: bool,
        status: TranscriptStatus,
    ) -> TranscriptRecord:
        row = (
            await self.session.execute(
                insert(Transcript)
                .values(
                    id=new_id(),
                    encounter_id=encounter_id,
                    organization_id=organization_id,
                    recording_id=recording_id,
                    live=live,
                    status=status.value,
                )
                .returning(*_TRANSCRIPT)
            )
        ).one()
        return transcript_record(row)

    async def set_status(
        self, transcript_id: uuid.UUID, status: TranscriptStatus, reason: str | None = None, **values: Any
    ) -> None:
        now = datetime.now(UTC)
        completed = (
            {"completed_at": now}
            if status in (TranscriptStatus.DONE, TranscriptStatus.EMPTY, TranscriptStatus.FAILED)
            else {}
        )
        await self.session.execute(
            update(Transcript)
            .where(Transcript.id == transcript_id)
            .values(status=status.value, reason=reason, updated_at=now, **completed, **values)
        )

    async def record_engine(self, transcript_id: uuid.UUID, engine: EngineInfo, language: str) -> None:
        await self.session.execute(
            update(Transcript)
            .where(Transcript.id == transcript_id)
            .values(
                engine=engine.engine,
                engine_version=engine.engine_version,
                model_name=engine.model_name,
                model_version=engine.model_version,
                device=engine.device,
                compute_type=engine.compute_type,
                settings=engine.settings,
                language=language,
            )
        )

    async def replace_segments(self, transcript_id: uuid.UUID, segments: Sequence[Segment]) -> list[uuid.UUID]:
        """Idempotent: a re-run of the same job replaces rather than duplicates."""
        await self.session.execute(delete(TranscriptSegment).where(TranscriptSegment.transcript_id == transcript_id))
        return await self.append_segments(transcript_id, segments)

    async def append_segments(self, transcript_id: uuid.UUID, segments: Sequence[Segment]) -> list[uuid.UUID]:
        if not segments:
            return []
        ids = [new_id() for _ in segments]
        await self.session.execute(
            insert(TranscriptSegment),
            [
                {
                    "id": segment_id,
                    "transcript_id": transcript_id,
                    "index": segment.index,
                    "start_ms": segment.start_ms,
                    "end_ms": segment.end_ms,
                    "speaker": segment.speaker,
                    "text": segment.text,
                    "confidence": segment.confidence,
                    "words": _words(segment),
                }
                for segment_id, segment in zip(ids, segments, strict=True)
            ],
        )
        return ids

    async def mark_finished(self, transcript_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Transcript).where(Transcript.id == transcript_id).values(finished=True, updated_at=datetime.now(UTC))
        )

    async def attach_recording(self, transcript_id: uuid.UUID, recording_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Transcript).where(Transcript.id == transcript_id).values(recording_id=recording_id)
        )

    async def segment_count(self, transcript_id: uuid.UUID) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(TranscriptSegment)
                .where(TranscriptSegment.transcript_id == transcript_id)
            )
            or 0
        )
