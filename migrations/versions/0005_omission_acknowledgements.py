"""Acknowledged omissions: a clinician accepts that the note leaves a finding out, before signing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written once, like versions and addenda (notes_refuse_change comes from 0004).
IMMUTABLE = """CREATE TRIGGER note_omission_acknowledgements_immutable
BEFORE UPDATE OR DELETE ON note_omission_acknowledgements
FOR EACH ROW EXECUTE FUNCTION notes_refuse_change()"""


def upgrade() -> None:
    op.create_table(
        "note_omission_acknowledgements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("finding_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["users.id"],
            name=op.f("fk_note_omission_acknowledgements_acknowledged_by_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name=op.f("fk_note_omission_acknowledgements_note_id_notes"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_omission_acknowledgements")),
        sa.UniqueConstraint("note_id", "finding_id", name=op.f("uq_note_omission_acknowledgements_note_id_finding_id")),
    )
    op.execute(IMMUTABLE)


def downgrade() -> None:
    op.drop_table("note_omission_acknowledgements")  # drops its trigger too
