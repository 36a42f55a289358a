"""noteOmissionAcknowledge: the clinician accepts that the note leaves findings out, so it can be signed."""

from __future__ import annotations

import strawberry

from api.mutations.notes import NotePayload, note_error, note_id_of
from api.policy import policy
from api.types.note import Note
from notes.visitnotes.errors import NoteError as NoteDomainError
from notes.visitnotes.service import acknowledge_omissions


@strawberry.input(description="Accept that the note leaves these findings out.")
class NoteOmissionAcknowledgeInput:
    note_id: strawberry.ID = strawberry.field(description="The note.")
    finding_ids: list[strawberry.ID] = strawberry.field(
        description="Findings among the current version's omissions (Note.omissions.findingId)."
    )
    expected_version: int | None = strawberry.field(
        default=None, description="The version you reviewed; a newer one gives CONFLICT. Omit to skip the check."
    )


@strawberry.mutation(
    description="Acknowledge omissions of the current version: only whoever may sign the note. Ids that are not "
    "its omissions give NOT_AN_OMISSION (nothing is acknowledged); acknowledging twice keeps the first.",
    extensions=[policy("note", "sign")],
)
async def note_omission_acknowledge(info: strawberry.Info, input: NoteOmissionAcknowledgeInput) -> NotePayload:
    context = info.context
    try:
        record = await acknowledge_omissions(
            context.services.database,
            context.access,
            note_id=note_id_of(input.note_id),
            finding_ids=[str(f) for f in input.finding_ids],
            expected_version=input.expected_version,
        )
    except NoteDomainError as error:
        return NotePayload(note=None, errors=[note_error(error)])
    return NotePayload(note=Note.of(record), errors=[])
