from __future__ import annotations

import uuid

import strawberry

from api.policy import policy
from api.types.common import parse_id
from api.types.note import Note, NoteAmendment
from notes.visitnotes.errors import NoteError as NoteDomainError
from notes.visitnotes.errors import NoteErrorCode
from notes.visitnotes.records import NoteRecord
from notes.visitnotes.service import SectionEdit, amend_note, regenerate_note, sign_note, update_note

strawberry.enum(NoteErrorCode, name="NoteErrorCode", description="Why a note change failed.")


@strawberry.type(description="A note mutation error.")
class NoteError:
    code: NoteErrorCode = strawberry.field(description="Machine-readable reason; CONFLICT means re-read and retry.")
    message: str = strawberry.field(description="Human-readable explanation (never contains patient data).")
    field: str | None = strawberry.field(description="The input field at fault, if any.")
    finding_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="For UNACKNOWLEDGED_OMISSIONS: the critical omissions still open; for NOT_AN_OMISSION: the "
        "ids that are not omissions of the current version.",
    )


def note_error(error: NoteDomainError) -> NoteError:
    finding_ids = error.details.get("findingIds")
    return NoteError(
        code=error.code,
        message=error.message,
        field=error.field,
        finding_ids=[strawberry.ID(f) for f in finding_ids] if finding_ids is not None else None,
    )


def note_id_of(value: strawberry.ID) -> uuid.UUID:
    key = parse_id(value)
    if key is None:
        raise NoteDomainError(NoteErrorCode.NOT_FOUND, "no such note", "noteId")
    return key


@strawberry.input(description="New text for one section.")
class NoteSectionInput:
    kind: str = strawberry.field(description="Section kind, e.g. PLAN.")
    text: str = strawberry.field(description="The section's full new text.")


@strawberry.input(description="An edit of a draft, checked against the version you read.")
class NoteUpdateInput:
    note_id: strawberry.ID = strawberry.field(description="The note.")
    expected_version: int = strawberry.field(description="The version you edited; a newer one gives CONFLICT.")
    sections: list[NoteSectionInput] = strawberry.field(description="The sections you changed.")


@strawberry.input(description="Sign the version you reviewed.")
class NoteSignInput:
    note_id: strawberry.ID = strawberry.field(description="The note.")
    expected_version: int = strawberry.field(description="The version you reviewed.")


@strawberry.input(description="An addendum to a signed note.")
class NoteAmendInput:
    note_id: strawberry.ID = strawberry.field(description="The signed note.")
    reason: str = strawberry.field(description="Why the addendum is needed.")
    text: str = strawberry.field(description="The addendum.")


@strawberry.input(description="Redraft named sections (never one a clinician edited).")
class NoteRegenerateInput:
    note_id: strawberry.ID = strawberry.field(description="The note.")
    sections: list[str] = strawberry.field(description="Section kinds to redraft.")


@strawberry.type(description="The note after the change, or why not.")
class NotePayload:
    note: Note | None = strawberry.field(description="The note, with its new version.")
    errors: list[NoteError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The addendum, or why not.")
class NoteAmendPayload:
    note: Note | None = strawberry.field(description="The signed note with its addenda.")
    amendment: NoteAmendment | None = strawberry.field(description="The new addendum.")
    errors: list[NoteError] = strawberry.field(description="Empty on success.")


def _payload(record: NoteRecord) -> NotePayload:
    return NotePayload(note=Note.of(record), errors=[])


@strawberry.mutation(
    description="Edit a draft note (one new immutable version).", extensions=[policy("note", "update")]
)
async def note_update(info: strawberry.Info, input: NoteUpdateInput) -> NotePayload:
    context = info.context
    try:
        record = await update_note(
            context.services.database,
            context.access,
            note_id=note_id_of(input.note_id),
            expected_version=input.expected_version,
            edits=[SectionEdit(s.kind, s.text) for s in input.sections],
        )
    except NoteDomainError as error:
        return NotePayload(note=None, errors=[note_error(error)])
    return _payload(record)


@strawberry.mutation(
    description="Sign the note: only the responsible clinician, and only once every CRITICAL omission is "
    "acknowledged (UNACKNOWLEDGED_OMISSIONS otherwise); the signed version never changes.",
    extensions=[policy("note", "sign")],
)
async def note_sign(info: strawberry.Info, input: NoteSignInput) -> NotePayload:
    context = info.context
    try:
        record = await sign_note(
            context.services.database,
            context.access,
            note_id=note_id_of(input.note_id),
            expected_version=input.expected_version,
        )
    except NoteDomainError as error:
        return NotePayload(note=None, errors=[note_error(error)])
    return _payload(record)


@strawberry.mutation(
    description="Add an addendum to a signed note, leaving the signed text untouched.",
    extensions=[policy("note", "amend")],
)
async def note_amend(info: strawberry.Info, input: NoteAmendInput) -> NoteAmendPayload:
    context = info.context
    try:
        note_id = note_id_of(input.note_id)
        amendment = await amend_note(
            context.services.database,
            context.access,
            note_id=note_id,
            reason=input.reason,
            text=input.text,
        )
    except NoteDomainError as error:
        return NoteAmendPayload(note=None, amendment=None, errors=[note_error(error)])
    record = await context.loaders.note.load(amendment.note_id)
    return NoteAmendPayload(
        note=Note.of(record) if record else None,
        amendment=NoteAmendment(
            id=strawberry.ID(str(amendment.id)),
            reason=amendment.reason,
            text=amendment.text,
            author=context.principal.name if context.principal else "",
            content_hash=amendment.content_hash,
            created_at=amendment.created_at,
        ),
        errors=[],
    )


@strawberry.mutation(
    description="Redraft the named sections; sections a clinician edited are refused (SECTION_EDITED).",
    extensions=[policy("note", "regenerate")],
)
async def note_regenerate(info: strawberry.Info, input: NoteRegenerateInput) -> NotePayload:
    context = info.context
    try:
        record = await regenerate_note(
            context.services.database,
            context.access,
            note_id=note_id_of(input.note_id),
            sections=input.sections,
        )
    except NoteDomainError as error:
        return NotePayload(note=None, errors=[note_error(error)])
    return _payload(record)
