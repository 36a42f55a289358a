from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.ids import new_id
from notes.encounters.status import EncounterStatus

STATUS_CHECK = "status IN (" + ", ".join(f"'{s.value}'" for s in EncounterStatus) + ")"


class Encounter(Base):
    __tablename__ = "encounters"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(32), default=EncounterStatus.CREATED.value)
    # A machine-readable reason for FAILED (e.g. "AUDIO_CORRUPT"); never free text, so never PHI.
    status_reason: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)  # the visit reason as entered: clinical content
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status"),
        Index("ix_encounters_org_clinician_id", "organization_id", "clinician_id", "id"),
        Index("ix_encounters_patient_id_id", "patient_id", "id"),
    )


class CareTeamMember(Base):
    """Staff who may see an encounter besides its responsible clinician."""

    __tablename__ = "encounter_care_team"

    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
