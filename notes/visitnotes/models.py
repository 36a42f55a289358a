"""Clinical notes: a series of immutable versions (v1 the AI draft, then clinician edits), a signature
that freezes the note, and addenda that never touch the signed text. The database enforces it too."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.ids import new_id
from notes.visitnotes.status import NoteStatus

STATUS_CHECK = "status IN (" + ", ".join(f"'{s.value}'" for s in NoteStatus) + ")"


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id", ondelete="RESTRICT"), unique=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(64))
    template_id: Mapped[str] = mapped_column(String(32))
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    # Worklist urgency, from the current version's claim checks.
    unsupported_count: Mapped[int] = mapped_column(Integer, default=0)
    contradicted_count: Mapped[int] = mapped_column(Integer, default=0)
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # first draft ready for review
    signed_version: Mapped[int | None] = mapped_column(Integer)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status"),
        Index("ix_notes_patient_status", "patient_id", "status"),
        Index("ix_notes_worklist", "organization_id", "status", "contradicted_count", "unsupported_count", "ready_at"),
    )


class NoteVersion(Base):
    __tablename__ = "note_versions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notes.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    author_kind: Mapped[str] = mapped_column(String(16))  # AI | CLINICIAN
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    drafter_kind: Mapped[str | None] = mapped_column(String(16))  # LLM | DETERMINISTIC (AI versions)
    drafter_model: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[str | None] = mapped_column(String(64))
    # What the draft was made from: transcript, findings ruleset, prior notes, input digest.
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    omissions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # spoken instructions to the drafter
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("note_id", "version"),
        CheckConstraint("author_kind IN ('AI', 'CLINICIAN')", name="author"),
    )


class NoteAmendment(Base):
    __tablename__ = "note_amendments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notes.id", ondelete="RESTRICT"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OmissionAcknowledgement(Base):
    """A clinician saw that the note leaves a finding out and accepted it, before signing. Written once.

    Keyed by note and finding, not version: an edit copies the omissions forward, and an acknowledgement
    of the same left-out finding should not have to be repeated for every new version. No foreign key to
    findings: a re-extraction replaces an encounter's findings, and the acknowledgement must outlive that.
    """

    __tablename__ = "note_omission_acknowledgements"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notes.id", ondelete="RESTRICT"))
    finding_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)  # the note version the clinician was reading
    acknowledged_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    acknowledged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("note_id", "finding_id"),)
