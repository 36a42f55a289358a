"""All SQL about notes, versions and addenda, reached through an encounter the principal may see."""

from __future__ import annotations

import base64
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, and_, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal
from core.ids import new_id
from core.pagination import InvalidCursor, Page
from notes.encounters.models import Encounter
from notes.scoping import encounter_visible
from notes.visitnotes.content import Section, content_hash, from_json, to_json
from notes.visitnotes.models import Note, NoteAmendment, NoteVersion, OmissionAcknowledgement
from notes.visitnotes.records import AcknowledgementRecord, AmendmentRecord, NoteRecord, NoteVersionRecord
from notes.visitnotes.status import AuthorKind, NoteStatus

_NOTE = tuple(Note.__table__.c)
_VERSION = tuple(NoteVersion.__table__.c)
_AMENDMENT = tuple(NoteAmendment.__table__.c)
_ACKNOWLEDGEMENT = tuple(OmissionAcknowledgement.__table__.c)


def note_record(row: Row[*tuple[Any, ...]]) -> NoteRecord:
    values = dict(row._mapping)
    values["status"] = NoteStatus(values["status"])
    return NoteRecord(**values)


def version_record(row: Row[*tuple[Any, ...]]) -> NoteVersionRecord:
    values = dict(row._mapping)
    values["author_kind"] = AuthorKind(values["author_kind"])
    values["sections"] = from_json(values["sections"])
    return NoteVersionRecord(**values)


def encode_worklist_cursor(note: NoteRecord) -> str:
    key = [
        note.contradicted_count,
        note.unsupported_count,
        (note.ready_at or note.created_at).isoformat(),
        str(note.id),
    ]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode_worklist_cursor(cursor: str) -> tuple[int, int, datetime, uuid.UUID]:
    try:
        c, u, at, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(c), int(u), datetime.fromisoformat(at), uuid.UUID(key)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("malformed cursor") from exc


class NoteRepository:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def _visible(self) -> Select[*tuple[Any, ...]]:
        return (
            select(*_NOTE).join(Encounter, Encounter.id == Note.encounter_id).where(encounter_visible(self.principal))
        )

    # -- reads -----------------------------------------------------------------------------------------
    async def get(self, note_id: uuid.UUID, *, for_update: bool = False) -> NoteRecord | None:
        query = self._visible().where(Note.id == note_id)
        if for_update:
            query = query.with_for_update(of=Note)
        row = (await self.session.execute(query)).first()
        return note_record(row) if row else None

    async def get_many(self, note_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, NoteRecord]:
        if not note_ids:
            return {}
        rows = await self.session.execute(self._visible().where(Note.id.in_(note_ids)))
        return {row.id: note_record(row) for row in rows}

    async def for_encounter(self, encounter_id: uuid.UUID, *, for_update: bool = False) -> NoteRecord | None:
        query = self._visible().where(Note.encounter_id == encounter_id)
        if for_update:
            query = query.with_for_update(of=Note)
        row = (await self.session.execute(query)).first()
        return note_record(row) if row else None

    async def for_encounters(self, encounter_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, NoteRecord]:
        if not encounter_ids:
            return {}
        rows = await self.session.execute(self._visible().where(Note.encounter_id.in_(encounter_ids)))
        return {row.encounter_id: note_record(row) for row in rows}

    async def versions(self, note_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[NoteVersionRecord]]:
        if not note_ids:
            return {}
        rows = await self.session.execute(
            select(*_VERSION)
            .where(NoteVersion.note_id.in_(note_ids))
            .order_by(NoteVersion.note_id, NoteVersion.version)
        )
        grouped: dict[uuid.UUID, list[NoteVersionRecord]] = defaultdict(list)
        for row in rows:
            grouped[row.note_id].append(version_record(row))
        return grouped

    async def version(self, note_id: uuid.UUID, version: int) -> NoteVersionRecord | None:
        row = (
            await self.session.execute(
                select(*_VERSION).where(NoteVersion.note_id == note_id, NoteVersion.version == version)
            )
        ).first()
        return version_record(row) if row else None

    async def amendments(self, note_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AmendmentRecord]]:
        if not note_ids:
            return {}
        rows = await self.session.execute(
            select(*_AMENDMENT).where(NoteAmendment.note_id.in_(note_ids)).order_by(NoteAmendment.created_at)
        )
        grouped: dict[uuid.UUID, list[AmendmentRecord]] = defaultdict(list)
        for row in rows:
            grouped[row.note_id].append(AmendmentRecord(**row._mapping))
        return grouped

    async def acknowledgements(self, note_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AcknowledgementRecord]]:
        """Reached only through a note the caller could see (scoped there)."""
        if not note_ids:
            return {}
        rows = await self.session.execute(
            select(*_ACKNOWLEDGEMENT)
            .where(OmissionAcknowledgement.note_id.in_(note_ids))
            .order_by(OmissionAcknowledgement.note_id, OmissionAcknowledgement.acknowledged_at)
        )
        grouped: dict[uuid.UUID, list[AcknowledgementRecord]] = defaultdict(list)
        for row in rows:
            grouped[row.note_id].append(AcknowledgementRecord(**row._mapping))
        return grouped

    async def prior_signed(
        self, patient_id: uuid.UUID, *, exclude_encounter: uuid.UUID, limit: int = 3
    ) -> list[tuple[NoteRecord, NoteVersionRecord]]:
        """The patient's most recent signed notes from other visits, as chart context."""
        rows = (
            await self.session.execute(
                select(*_NOTE)
                .where(
                    Note.patient_id == patient_id,
                    Note.status == NoteStatus.SIGNED.value,
                    Note.encounter_id != exclude_encounter,
                )
                .order_by(Note.signed_at.desc())
                .limit(limit)
            )
        ).all()
        notes = [note_record(row) for row in rows]
        signed = []
        for note in notes:
            assert note.signed_version is not None
            version = await self.version(note.id, note.signed_version)
            if version is not None:
                signed.append((note, version))
        return signed

    async def worklist(self, first: int, after: str | None) -> Page[NoteRecord]:
        """Notes awaiting review, most urgent first: contradicted, then unsupported claims, then oldest."""
        query = self._visible().where(Note.status == NoteStatus.DRAFT.value)
        ready = func.coalesce(Note.ready_at, Note.created_at)
        if after:
            contradicted, unsupported, at, key = _decode_worklist_cursor(after)
            # Descending counts, ascending age and id: rows strictly after the cursor in that order.
            query = query.where(
                or_(
                    Note.contradicted_count < contradicted,
                    and_(Note.contradicted_count == contradicted, Note.unsupported_count < unsupported),
                    and_(
                        Note.contradicted_count == contradicted,
                        Note.unsupported_count == unsupported,
                        tuple_(ready, Note.id) > tuple_(at, key),
                    ),
                )
            )
        rows = (
            await self.session.execute(
                query.order_by(Note.contradicted_count.desc(), Note.unsupported_count.desc(), ready, Note.id).limit(
                    first + 1
                )
            )
        ).all()
        return Page.from_rows([note_record(row) for row in rows], first)

    # -- writes ----------------------------------------------------------------------------------------
    async def create(
        self, *, encounter_id: uuid.UUID, organization_id: uuid.UUID, patient_id: uuid.UUID, template_id: str
    ) -> NoteRecord:
        row = (
            await self.session.execute(
                insert(Note)
                .values(
                    id=new_id(),
                    encounter_id=encounter_id,
                    organization_id=organization_id,
                    patient_id=patient_id,
                    status=NoteStatus.DRAFTING.value,
                    template_id=template_id,
                    current_version=0,
                )
                .returning(*_NOTE)
            )
        ).one()
        return note_record(row)

    async def add_version(
        self,
        note: NoteRecord,
        *,
        expected_version: int,
        author_kind: AuthorKind,
        author_id: uuid.UUID | None,
        sections: Sequence[Section],
        inputs: dict[str, Any],
        omissions: list[dict[str, Any]],
        flags: list[dict[str, Any]],
        drafter: tuple[str, str | None, str] | None = None,
        status: NoteStatus = NoteStatus.DRAFT,
        counts: tuple[int, int] = (0, 0),
    ) -> int | None:
        """Compare-and-swap on the version number: None when `expected_version` is stale or the note is signed."""
        now = datetime.now(UTC)
        bumped = (
            await self.session.execute(
                update(Note)
                .where(
                    Note.id == note.id,
                    Note.current_version == expected_version,
                    Note.status != NoteStatus.SIGNED.value,
                )
                .values(
                    current_version=expected_version + 1,
                    status=status.value,
                    status_reason=None,
                    unsupported_count=counts[0],
                    contradicted_count=counts[1],
                    ready_at=func.coalesce(Note.ready_at, now) if status is NoteStatus.DRAFT else Note.ready_at,
                    updated_at=now,
                )
                .returning(Note.current_version)
            )
        ).first()
        if bumped is None:
            return None
        version = int(bumped[0])
        drafter_kind, drafter_model, prompt_version = drafter or (None, None, None)
        await self.session.execute(
            insert(NoteVersion).values(
                id=new_id(),
                note_id=note.id,
                version=version,
                author_kind=author_kind.value,
                author_id=author_id,
                drafter_kind=drafter_kind,
                drafter_model=drafter_model,
                prompt_version=prompt_version,
                inputs=inputs,
                sections=to_json(sections),
                omissions=omissions,
                flags=flags,
                content_hash=content_hash(sections),
            )
        )
        return version

    async def set_status(self, note_id: uuid.UUID, status: NoteStatus, reason: str | None = None) -> None:
        await self.session.execute(
            update(Note)
            .where(Note.id == note_id, Note.status != NoteStatus.SIGNED.value)
            .values(status=status.value, status_reason=reason, updated_at=datetime.now(UTC))
        )

    async def sign(self, note_id: uuid.UUID, *, expected_version: int, signer: uuid.UUID, digest: str) -> bool:
        signed = await self.session.execute(
            update(Note)
            .where(Note.id == note_id, Note.current_version == expected_version, Note.status == NoteStatus.DRAFT.value)
            .values(
                status=NoteStatus.SIGNED.value,
                signed_version=expected_version,
                signed_at=datetime.now(UTC),
                signed_by=signer,
                content_hash=digest,
                updated_at=datetime.now(UTC),
            )
            .returning(Note.id)
        )
        return signed.first() is not None

    async def add_amendment(
        self, note_id: uuid.UUID, *, author_id: uuid.UUID, reason: str, text: str, digest: str
    ) -> AmendmentRecord:
        row = (
            await self.session.execute(
                insert(NoteAmendment)
                .values(
                    id=new_id(), note_id=note_id, author_id=author_id, reason=reason, text=text, content_hash=digest
                )
                .returning(*_AMENDMENT)
            )
        ).one()
        return AmendmentRecord(**row._mapping)

    async def acknowledge(
        self, note_id: uuid.UUID, finding_ids: Sequence[uuid.UUID], *, version: int, user_id: uuid.UUID
    ) -> list[AcknowledgementRecord]:
        """Only the acknowledgements that are new: one already made stands as it was (who and when)."""
        if not finding_ids:
            return []
        rows = await self.session.execute(
            pg_insert(OmissionAcknowledgement)
            .values(
                [
                    {
                        "id": new_id(),
                        "note_id": note_id,
                        "finding_id": finding_id,
                        "version": version,
                        "acknowledged_by": user_id,
                    }
                    for finding_id in finding_ids
                ]
            )
            .on_conflict_do_nothing(index_elements=["note_id", "finding_id"])
            .returning(*_ACKNOWLEDGEMENT)
        )
        return [AcknowledgementRecord(**row._mapping) for row in rows]
