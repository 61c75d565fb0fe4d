"""Carry the case's unit on each answer, and index a period's answers with their unit and rating.

The index pages summed a unit's answers of a period by joining every answer of the period
to ``surveys`` and ``cases`` for its unit: 1.3 s for a 30-day city dashboard at a million
answers (docs/scaling.md). With the unit on the answer and an index on (submitted_at,
unit_id, overall), a period's figures need no join: 0.37 s for the same page. The new index also
serves every query the plain ``submitted_at`` index served, which is dropped: one index
fewer to write per answer.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain column, added and dropped in place: on SQLite a NOT NULL column or a foreign
    # key would rebuild ``responses``, and dropping the old table deletes its analyses and
    # tickets through ON DELETE CASCADE (migrations/env.py). The unit is a copy of the
    # case's, whose own foreign key keeps it valid (a case never changes unit); every
    # answer gets it here and from the one write path (surveys.answers.store_answer_on).
    op.add_column("responses", sa.Column("unit_id", sa.Integer(), nullable=True))
    op.execute(
        """
        UPDATE responses SET unit_id = (
            SELECT cases.unit_id FROM surveys JOIN cases ON cases.id = surveys.case_id
            WHERE surveys.id = responses.survey_id
        )
        """
    )
    op.drop_index("ix_responses_submitted_at", table_name="responses")
    op.create_index("ix_responses_period", "responses", ["submitted_at", "unit_id", "overall"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_responses_period", table_name="responses")
    op.create_index("ix_responses_submitted_at", "responses", ["submitted_at"], unique=False)
    with op.batch_alter_table("responses", recreate="never") as batch_op:  # SQLite's own DROP COLUMN
        batch_op.drop_column("unit_id")
