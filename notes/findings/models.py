"""Problems and medications found in a transcript, each with the evidence that supports it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.ids import new_id


class Finding(Base):
    __tablename__ = "findings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id", ondelete="RESTRICT"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"))
    transcript_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # problem | medication
    position: Mapped[int] = mapped_column(Integer)  # order of appearance
    text: Mapped[str] = mapped_column(Text)  # the words as said
    name: Mapped[str | None] = mapped_column(String(200))  # medication: generic name
    code_system: Mapped[str | None] = mapped_column(String(32))
    code: Mapped[str | None] = mapped_column(String(32))
    code_display: Mapped[str | None] = mapped_column(String(300))
    negated: Mapped[bool] = mapped_column(Boolean, default=False)
    historical: Mapped[bool] = mapped_column(Boolean, default=False)
    family: Mapped[bool] = mapped_column(Boolean, default=False)
    hypothetical: Mapped[bool] = mapped_column(Boolean, default=False)
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    asked: Mapped[bool] = mapped_column(Boolean, default=False)  # only mentioned in a question
    dose: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(16))
    route: Mapped[str | None] = mapped_column(String(32))
    frequency: Mapped[str | None] = mapped_column(String(64))
    duration: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(16))  # medication status
    # Evidence: the segment, character offsets in its text, and the audio time they span.
    segment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("transcript_segments.id", ondelete="CASCADE"))
    start_char: Mapped[int] = mapped_column(Integer)
    end_char: Mapped[int] = mapped_column(Integer)
    start_ms: Mapped[int] = mapped_column(Integer)
    end_ms: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(16))
    ruleset_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("kind IN ('problem', 'medication')", name="kind"),
        Index("ix_findings_encounter_kind", "encounter_id", "kind", "position"),
        Index("ix_findings_transcript_id", "transcript_id"),
    )
