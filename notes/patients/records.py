from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class PatientRecord:
    id: uuid.UUID
    organization_id: uuid.UUID
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    created_at: datetime
