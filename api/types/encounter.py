from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from api.policy import policy
from api.types.findings import Findings
from api.types.note import Note
from api.types.patient import Patient
from api.types.recording import Recording
from api.types.transcript import Transcript
from api.types.user import User
from notes.encounters.records import EncounterRecord
from notes.encounters.status import EncounterStatus

strawberry.enum(EncounterStatus, name="EncounterStatus", description="Where an encounter is in the pipeline.")


@strawberry.type(description="A visit: one patient, one responsible clinician, its audio and documentation.")
class Encounter:
    id: strawberry.ID = strawberry.field(description="Stable identifier.")
    status: EncounterStatus = strawberry.field(description="Where the encounter is in the pipeline.")
    status_reason: str | None = strawberry.field(description="Machine-readable reason when status is FAILED.")
    reason: str = strawberry.field(description="Reason for the visit, as entered.")
    created_at: datetime = strawberry.field(description="When the encounter was opened.")
    updated_at: datetime = strawberry.field(description="Last status change.")
    patient_id: strawberry.Private[uuid.UUID]
    clinician_id: strawberry.Private[uuid.UUID]
    key: strawberry.Private[uuid.UUID]  # the id as a UUID, for the loaders

    @classmethod
    def of(cls, record: EncounterRecord) -> Encounter:
        return cls(
            id=strawberry.ID(str(record.id)),
            status=record.status,
            status_reason=record.status_reason,
            reason=record.reason,
            created_at=record.created_at,
            updated_at=record.updated_at,
            patient_id=record.patient_id,
            clinician_id=record.clinician_id,
            key=record.id,
        )

    @strawberry.field(description="The patient seen.", extensions=[policy("patient", "read")])
    async def patient(self, info: strawberry.Info) -> Patient | None:
        record = await info.context.loaders.patient.load(self.patient_id)
        return Patient.of(record) if record else None

    @strawberry.field(description="The responsible clinician.", extensions=[policy("staff", "read")])
    async def clinician(self, info: strawberry.Info) -> User | None:
        record = await info.context.loaders.user.load(self.clinician_id)
        return User.of(record) if record else None

    @strawberry.field(
        description="The current transcript (live while chunks arrive); null before any audio.",
        extensions=[policy("transcript", "read")],
    )
    async def transcript(self, info: strawberry.Info) -> Transcript | None:
        record = await info.context.loaders.transcript.load(self.key)
        return Transcript.of(record) if record else None

    @strawberry.field(
        description="Problems and medications found in the transcript (empty before extraction).",
        extensions=[policy("findings", "read")],
    )
    async def findings(self, info: strawberry.Info) -> Findings:
        return Findings.of(await info.context.loaders.findings.load(self.key))

    @strawberry.field(
        description="The clinical note (null until drafting starts).", extensions=[policy("note", "read")]
    )
    async def note(self, info: strawberry.Info) -> Note | None:
        record = await info.context.loaders.note_by_encounter.load(self.key)
        return Note.of(record) if record else None

    @strawberry.field(description="Uploaded audio, oldest first.", extensions=[policy("recording", "read")])
    async def recordings(self, info: strawberry.Info) -> list[Recording]:
        records = await info.context.loaders.recordings_by_encounter.load(self.key)
        return [Recording.of(r) for r in records]
