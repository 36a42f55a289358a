"""The clinician's workflow on a note: edit (optimistic concurrency), sign, amend, regenerate sections.

Every change is one transaction with its audit event and its encounter event. Versions are never
updated; a signed note never changes again (the database refuses it too).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from core.db import Database
from notes.access import Access, unit_of_work
from notes.encounters.repository import EncounterRepository
from notes.encounters.status import EncounterStatus
from notes.encounters.transitions import move_to
from notes.events.kinds import EventKind
from notes.events.publisher import publish
from notes.pipeline.queue import enqueue_drafting
from notes.visitnotes.content import apply_edit, content_hash, normalize, worklist_counts
from notes.visitnotes.errors import NoteError, NoteErrorCode
from notes.visitnotes.omissions import current_omissions, open_critical, parse_finding_ids
from notes.visitnotes.records import AmendmentRecord, NoteRecord
from notes.visitnotes.repository import NoteRepository
from notes.visitnotes.status import AuthorKind, NoteStatus

MAX_SECTION_CHARS = 20_000
MAX_AMENDMENT_CHARS = 20_000


@dataclass(frozen=True)
class SectionEdit:
    kind: str
    text: str


def _not_found() -> NoteError:
    return NoteError(NoteErrorCode.NOT_FOUND, "no such note", "noteId")


async def _locked_note(repo: NoteRepository, access: Access, note_id: uuid.UUID) -> NoteRecord:
    note = await repo.get(note_id, for_update=True)
    if note is None:
        access.record("read", "note", note_id, "denied")
        raise _not_found()
    return note


def _refuse_if_signed(note: NoteRecord) -> None:
    if note.status is NoteStatus.SIGNED:
        raise NoteError(NoteErrorCode.NOTE_SIGNED, "the note is signed; add an addendum instead", "noteId")


async def update_note(
    database: Database, access: Access, *, note_id: uuid.UUID, expected_version: int, edits: Sequence[SectionEdit]
) -> NoteRecord:
    access.require("note", "update", note_id)
    assert access.principal is not None
    if not edits:
        raise NoteError(NoteErrorCode.INVALID_INPUT, "give at least one section", "sections")
    async with unit_of_work(database, access) as work:
        repo = NoteRepository(work.session, access.principal)
        note = await _locked_note(repo, access, note_id)
        _refuse_if_signed(note)
        if note.status is not NoteStatus.DRAFT:
            raise NoteError(NoteErrorCode.NOT_READY, "the note is still being drafted", "noteId")
        if note.current_version != expected_version:
            raise NoteError(NoteErrorCode.CONFLICT, f"the note is at version {note.current_version}", "expectedVersion")
        base = await repo.version(note.id, note.current_version)
        assert base is not None
        sections = {s.kind: s for s in base.sections}
        seen: set[str] = set()
        for edit in edits:
            if edit.kind not in sections or edit.kind in seen:
                raise NoteError(NoteErrorCode.INVALID_INPUT, f"unknown or repeated section {edit.kind!r}", "sections")
            if len(edit.text) > MAX_SECTION_CHARS:
                raise NoteError(NoteErrorCode.INVALID_INPUT, "a section is too long", "sections")
            seen.add(edit.kind)
            sections[edit.kind] = apply_edit(sections[edit.kind], edit.text)
        updated = [sections[s.kind] for s in base.sections]
        version = await repo.add_version(
            note,
            expected_version=expected_version,
            author_kind=AuthorKind.CLINICIAN,
            author_id=access.user_id,
            sections=updated,
            inputs={"base_version": base.version, "edited_sections": sorted(seen)},
            omissions=base.omissions,
            flags=base.flags,
            counts=worklist_counts(updated),
        )
        if version is None:  # lost a race after our read: the row lock makes this rare, the CAS makes it safe
            raise NoteError(NoteErrorCode.CONFLICT, "the note changed meanwhile", "expectedVersion")
        await publish(
            work.session,
            encounter_id=note.encounter_id,
            organization_id=note.organization_id,
            kind=EventKind.NOTE_EDITED,
            payload={"noteId": str(note.id), "version": version},
        )
        work.audit("update", "note", note.id)
        updated_note = await repo.get(note.id)
    assert updated_note is not None
    return updated_note


async def _require_responsible(
    access: Access, repo: EncounterRepository, note: NoteRecord, action: str = "sign"
) -> None:
    encounter = await repo.get(note.encounter_id)
    assert encounter is not None and access.principal is not None
    if encounter.clinician_id != access.principal.id:
        access.record(action, "note", note.id, "denied")
        raise NoteError(
            NoteErrorCode.NOT_RESPONSIBLE_CLINICIAN, "only the encounter's responsible clinician may do this", "noteId"
        )


async def sign_note(database: Database, access: Access, *, note_id: uuid.UUID, expected_version: int) -> NoteRecord:
    access.require("note", "sign", note_id)
    assert access.principal is not None
    async with unit_of_work(database, access) as work:
        repo = NoteRepository(work.session, access.principal)
        note = await _locked_note(repo, access, note_id)
        _refuse_if_signed(note)
        await _require_responsible(access, EncounterRepository(work.session, access.principal), note)
        if note.status is not NoteStatus.DRAFT:
            raise NoteError(NoteErrorCode.NOT_READY, "the note is still being drafted", "noteId")
        if note.current_version != expected_version:
            raise NoteError(NoteErrorCode.CONFLICT, f"the note is at version {note.current_version}", "expectedVersion")
        version = await repo.version(note.id, expected_version)
        assert version is not None
        unacknowledged = open_critical(await current_omissions(work.session, access.principal, note, version))
        if unacknowledged:
            raise NoteError(
                NoteErrorCode.UNACKNOWLEDGED_OMISSIONS,
                f"{len(unacknowledged)} critical finding(s) left out of the note are not acknowledged",
                "noteId",
                {"findingIds": unacknowledged},
            )
        digest = content_hash(version.sections)
        if not await repo.sign(note.id, expected_version=expected_version, signer=access.user_id, digest=digest):
            raise NoteError(NoteErrorCode.CONFLICT, "the note changed meanwhile", "expectedVersion")
        await publish(
            work.session,
            encounter_id=note.encounter_id,
            organization_id=note.organization_id,
            kind=EventKind.NOTE_SIGNED,
            payload={"noteId": str(note.id), "version": expected_version},
        )
        await move_to(work.session, note.encounter_id, note.organization_id, EncounterStatus.SIGNED)
        work.audit("sign", "note", note.id)
        signed = await repo.get(note.id)
    assert signed is not None
    return signed


async def acknowledge_omissions(
    database: Database,
    access: Access,
    *,
    note_id: uuid.UUID,
    finding_ids: Sequence[str],
    expected_version: int | None = None,
) -> NoteRecord:
    """The clinician accepts that the current version leaves these findings out. Whoever may sign may do
    this (it is part of signing); each new acknowledgement is audited with the note."""
    access.require("note", "sign", note_id)
    assert access.principal is not None
    if not finding_ids:
        raise NoteError(NoteErrorCode.INVALID_INPUT, "name at least one finding", "findingIds")
    async with unit_of_work(database, access) as work:
        repo = NoteRepository(work.session, access.principal)
        note = await _locked_note(repo, access, note_id)
        _refuse_if_signed(note)
        await _require_responsible(
            access, EncounterRepository(work.session, access.principal), note, "acknowledge_omission"
        )
        if note.status is not NoteStatus.DRAFT:
            raise NoteError(NoteErrorCode.NOT_READY, "the note is still being drafted", "noteId")
        if expected_version is not None and note.current_version != expected_version:
            raise NoteError(NoteErrorCode.CONFLICT, f"the note is at version {note.current_version}", "expectedVersion")
        version = await repo.version(note.id, note.current_version)
        assert version is not None
        omitted = {str(o["finding_id"]) for o in version.omissions}
        parsed, invalid = parse_finding_ids(finding_ids)
        strangers = invalid + [str(f) for f in parsed if str(f) not in omitted]
        if strangers:
            raise NoteError(
                NoteErrorCode.NOT_AN_OMISSION,
                f"{len(strangers)} finding(s) are not left out of the current version",
                "findingIds",
                {"findingIds": strangers},
            )
        added = await repo.acknowledge(note.id, parsed, version=version.version, user_id=access.user_id)
        for _ in added:
            work.audit("acknowledge_omission", "note", note.id)
        refreshed = await repo.get(note.id)
    assert refreshed is not None
    return refreshed


async def amend_note(
    database: Database, access: Access, *, note_id: uuid.UUID, reason: str, text: str
) -> AmendmentRecord:
    access.require("note", "amend", note_id)
    assert access.principal is not None
    reason, text = normalize(reason), text.strip()
    if not reason or not text or len(text) > MAX_AMENDMENT_CHARS or len(reason) > 2_000:
        raise NoteError(NoteErrorCode.INVALID_INPUT, "an addendum needs a reason and a text", "text")
    async with unit_of_work(database, access) as work:
        repo = NoteRepository(work.session, access.principal)
        note = await _locked_note(repo, access, note_id)
        if note.status is not NoteStatus.SIGNED:
            raise NoteError(NoteErrorCode.NOT_SIGNED, "edit the note instead: it is not signed yet", "noteId")
        await _require_responsible(access, EncounterRepository(work.session, access.principal), note)
        digest = hashlib.sha256(f"{note.content_hash}\n{reason}\n{text}".encode()).hexdigest()
        amendment = await repo.add_amendment(note.id, author_id=access.user_id, reason=reason, text=text, digest=digest)
        await publish(
            work.session,
            encounter_id=note.encounter_id,
            organization_id=note.organization_id,
            kind=EventKind.NOTE_AMENDED,
            payload={"noteId": str(note.id), "amendmentId": str(amendment.id)},
        )
        work.audit("amend", "note", note.id)
    return amendment


async def regenerate_note(
    database: Database, access: Access, *, note_id: uuid.UUID, sections: Sequence[str]
) -> NoteRecord:
    """Ask the drafter to rewrite the named sections. A section a clinician edited is refused, never overwritten."""
    access.require("note", "regenerate", note_id)
    assert access.principal is not None
    if not sections:
        raise NoteError(NoteErrorCode.INVALID_INPUT, "name at least one section", "sections")
    async with unit_of_work(database, access) as work:
        repo = NoteRepository(work.session, access.principal)
        note = await _locked_note(repo, access, note_id)
        _refuse_if_signed(note)
        if note.status is not NoteStatus.DRAFT:
            raise NoteError(NoteErrorCode.NOT_READY, "the note is still being drafted", "noteId")
        current = await repo.version(note.id, note.current_version)
        assert current is not None
        by_kind = {s.kind: s for s in current.sections}
        unknown = [kind for kind in sections if kind not in by_kind]
        if unknown:
            raise NoteError(NoteErrorCode.INVALID_INPUT, f"unknown section(s): {', '.join(unknown)}", "sections")
        edited = [kind for kind in sections if by_kind[kind].edited_by_clinician]
        if edited:
            raise NoteError(
                NoteErrorCode.SECTION_EDITED,
                f"clinician-edited section(s) are never regenerated: {', '.join(edited)}",
                "sections",
            )
        await repo.set_status(note.id, NoteStatus.DRAFTING)
        await move_to(work.session, note.encounter_id, note.organization_id, EncounterStatus.DRAFTING)
        await enqueue_drafting(
            work.session, note.encounter_id, sections=list(dict.fromkeys(sections)), base_version=note.current_version
        )
        work.audit("regenerate", "note", note.id)
        refreshed = await repo.get(note.id)
    assert refreshed is not None
    return refreshed
