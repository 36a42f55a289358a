from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from notes.encounters.status import EncounterStatus


@dataclass(frozen=True, slots=True)
class EncounterRecord:
    id: uuid.UUID
    organization_id: uuid.UUID
    patient_id: uuid.UUID
    clinician_id: uuid.UUID
    status: EncounterStatus
    status_reason: str | None
    reason: str
    created_at: datetime
    updated_at: datetime
