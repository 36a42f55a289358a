"""A finished transcript of known words, written straight to the database: for tests of the steps after
transcription (extraction, drafting) that need no audio."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from authz.principal import Principal
from notes.bootstrap import Services
from notes.encounters.repository import EncounterRepository
from notes.transcripts.repository import TranscriptRepository
from notes.transcripts.status import TranscriptStatus
from tests.api.helpers import create_encounter, create_patient
from tests.conftest import Api
from transcription.types import Segment, Word


def spoken_segment(index: int, speaker: str, text: str) -> Segment:
    """Segment `index` of a visit: 5 s apart, one word every 300 ms."""
    start = index * 5_000
    words = tuple(Word(" " + w, start + n * 300, start + n * 300 + 250, 0.9) for n, w in enumerate(text.split()))
    return Segment(index, start, start + 300 * len(words), speaker, text, 0.9, words)  # type: ignore[arg-type]


async def transcribed_encounter(
    api: Api, services: Services, said: Sequence[tuple[str, str]], *, clinician: str
) -> tuple[uuid.UUID, uuid.UUID]:
    """A new patient and encounter of `clinician` whose DONE transcript holds `said` ((speaker, text) turns).
    Returns (encounter id, transcript id)."""
    patient = await create_patient(api, as_=clinician)
    encounter_id = uuid.UUID((await create_encounter(api, patient["id"], as_=clinician))["id"])
    transcriber = Principal.service("transcriber", "transcriber")
    async with services.database.transaction() as session:
        encounter = await EncounterRepository(session, transcriber).get(encounter_id)
        assert encounter is not None
        transcripts = TranscriptRepository(session, transcriber)
        transcript = await transcripts.create(
            encounter_id=encounter.id,
            organization_id=encounter.organization_id,
            recording_id=None,
            live=False,
            status=TranscriptStatus.DONE,
        )
        await transcripts.append_segments(transcript.id, [spoken_segment(i, s, t) for i, (s, t) in enumerate(said)])
    return encounter_id, transcript.id
