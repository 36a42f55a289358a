"""Every read the API does, through the principal's scope, recording an audit event per record returned.

A record the principal may not see comes back as None (or is absent from a list), exactly as if it did
not exist; the audit trail notes the empty look-up as denied.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from authz.principal import Principal
from core.pagination import Page, PageRequest
from notes.access import Access
from notes.encounters.records import EncounterRecord
from notes.encounters.repository import EncounterReads
from notes.encounters.status import EncounterStatus
from notes.findings.records import FindingRecord
from notes.findings.repository import FindingRepository
from notes.identity.records import UserRecord
from notes.identity.repository import IdentityRepository
from notes.patients.records import PatientRecord
from notes.patients.repository import PatientReads
from notes.recordings.records import RecordingRecord
from notes.recordings.repository import RecordingReads
from notes.session import RequestSession
from notes.transcripts.records import SegmentRecord, TranscriptRecord
from notes.transcripts.repository import TranscriptRepository
from notes.visitnotes.records import AcknowledgementRecord, AmendmentRecord, NoteRecord, NoteVersionRecord
from notes.visitnotes.repository import NoteRepository


class Reader:
    def __init__(self, session: RequestSession, access: Access) -> None:
        self.session = session
        self.access = access

    @property
    def principal(self) -> Principal:
        assert self.access.principal is not None
        return self.access.principal

    def _audit_found(self, resource: str, requested: Sequence[uuid.UUID], found: dict[uuid.UUID, object]) -> None:
        for key in requested:
            if key in found:
                self.access.read(resource, key)
            else:
                self.access.record("read", resource, key, "denied")

    # -- patients --------------------------------------------------------------------------------------
    async def patients_by_id(self, ids: Sequence[uuid.UUID]) -> list[PatientRecord | None]:
        found = await PatientReads(self.session, self.principal).get_many(ids)
        self._audit_found("patient", ids, found)  # type: ignore[arg-type]
        return [found.get(key) for key in ids]

    async def patients(self, page: PageRequest[uuid.UUID], search: str | None) -> Page[PatientRecord]:
        result = await PatientReads(self.session, self.principal).page(page, search)
        for patient in result.items:
            self.access.read("patient", patient.id)
        return result

    # -- encounters ------------------------------------------------------------------------------------
    async def encounters_by_id(self, ids: Sequence[uuid.UUID]) -> list[EncounterRecord | None]:
        found = await EncounterReads(self.session, self.principal).get_many(ids)
        self._audit_found("encounter", ids, found)  # type: ignore[arg-type]
        return [found.get(key) for key in ids]

    async def encounters(
        self, page: PageRequest[uuid.UUID], *, patient_id: uuid.UUID | None, status: EncounterStatus | None
    ) -> Page[EncounterRecord]:
        result = await EncounterReads(self.session, self.principal).page(page, patient_id=patient_id, status=status)
        for encounter in result.items:
            self.access.read("encounter", encounter.id)
        return result

    async def encounters_by_patient(
        self, patient_ids: Sequence[uuid.UUID], *, limit_each: int
    ) -> list[list[EncounterRecord]]:
        grouped = await EncounterReads(self.session, self.principal).by_patients(patient_ids, limit_each=limit_each)
        for encounters in grouped.values():
            for encounter in encounters:
                self.access.read("encounter", encounter.id)
        return [grouped.get(key, []) for key in patient_ids]

    # -- recordings ------------------------------------------------------------------------------------
    async def recordings_by_encounter(self, encounter_ids: Sequence[uuid.UUID]) -> list[list[RecordingRecord]]:
        grouped = await RecordingReads(self.session, self.principal).by_encounters(encounter_ids)
        for recordings in grouped.values():
            for recording in recordings:
                self.access.read("recording", recording.id)
        return [grouped.get(key, []) for key in encounter_ids]

    # -- transcripts (PHI: every read is audited) -----------------------------------------------------
    async def transcripts_for_encounters(self, encounter_ids: Sequence[uuid.UUID]) -> list[TranscriptRecord | None]:
        async with self.session.use() as session:
            found = await TranscriptRepository(session, self.principal).latest_for_encounters(encounter_ids)
        for transcript in found.values():
            self.access.read("transcript", transcript.id)
        return [found.get(key) for key in encounter_ids]

    async def transcript_texts(self, transcript_ids: Sequence[uuid.UUID]) -> list[str]:
        """Callers reach transcripts only through `transcripts_for_encounters`, which scoped and audited them."""
        async with self.session.use() as session:
            texts = await TranscriptRepository(session, self.principal).texts(transcript_ids)
        return [texts.get(key, "") for key in transcript_ids]

    async def segments(self, transcript_id: uuid.UUID, page: PageRequest[int]) -> Page[SegmentRecord]:
        async with self.session.use() as session:
            return await TranscriptRepository(session, self.principal).segments(transcript_id, page)

    # -- findings (PHI) -----------------------------------------------------------------------------------
    async def findings_for_encounters(self, encounter_ids: Sequence[uuid.UUID]) -> list[list[FindingRecord]]:
        async with self.session.use() as session:
            found = await FindingRepository(session, self.principal).for_encounters(encounter_ids)
        for encounter_id in found:
            self.access.read("findings", encounter_id)
        return [found.get(key, []) for key in encounter_ids]

    # -- notes (PHI) --------------------------------------------------------------------------------------
    async def notes_for_encounters(self, encounter_ids: Sequence[uuid.UUID]) -> list[NoteRecord | None]:
        async with self.session.use() as session:
            found = await NoteRepository(session, self.principal).for_encounters(encounter_ids)
        for note in found.values():
            self.access.read("note", note.id)
        return [found.get(key) for key in encounter_ids]

    async def notes_by_id(self, note_ids: Sequence[uuid.UUID]) -> list[NoteRecord | None]:
        async with self.session.use() as session:
            found = await NoteRepository(session, self.principal).get_many(note_ids)
        self._audit_found("note", note_ids, found)  # type: ignore[arg-type]
        return [found.get(key) for key in note_ids]

    async def note_versions(self, note_ids: Sequence[uuid.UUID]) -> list[list[NoteVersionRecord]]:
        """Reached only through a note the caller could see (scoped and audited there)."""
        async with self.session.use() as session:
            found = await NoteRepository(session, self.principal).versions(note_ids)
        return [found.get(key, []) for key in note_ids]

    async def note_amendments(self, note_ids: Sequence[uuid.UUID]) -> list[list[AmendmentRecord]]:
        async with self.session.use() as session:
            found = await NoteRepository(session, self.principal).amendments(note_ids)
        return [found.get(key, []) for key in note_ids]

    async def omission_acknowledgements(self, note_ids: Sequence[uuid.UUID]) -> list[list[AcknowledgementRecord]]:
        """Reached only through a note the caller could see (scoped and audited there)."""
        async with self.session.use() as session:
            found = await NoteRepository(session, self.principal).acknowledgements(note_ids)
        return [found.get(key, []) for key in note_ids]

    async def worklist(self, first: int, after: str | None) -> Page[NoteRecord]:
        async with self.session.use() as session:
            result = await NoteRepository(session, self.principal).worklist(first, after)
        for note in result.items:
            self.access.read("note", note.id)
        return result

    # -- staff -----------------------------------------------------------------------------------------
    async def staff(self, page: PageRequest[uuid.UUID]) -> Page[UserRecord]:
        organization_id = self.access.organization_id
        async with self.session.use() as session:
            return await IdentityRepository(session).staff_page(organization_id, page.first, page.after)

    async def users_by_id(self, ids: Sequence[uuid.UUID]) -> list[UserRecord | None]:
        """Staff of the caller's organization (not patient data, so not audited as a PHI read)."""
        organization_id = self.principal.organization_id
        if organization_id is None:
            return [None for _ in ids]
        async with self.session.use() as session:
            found = await IdentityRepository(session).users_in_organization(organization_id, ids)
        return [found.get(key) for key in ids]
