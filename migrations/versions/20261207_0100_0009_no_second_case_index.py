"""Drop the plain case_id indexes of ``surveys`` and ``case_contacts``.

Each table also has its unique (case_id, contact_id) index, which serves every lookup by
case (its leading column), the ON DELETE CASCADE from ``cases`` included. The second
index only cost writes: one index entry more for every survey planned and every citizen
added to a case, and for every opening of a survey link, an UPDATE of ``status`` that
PostgreSQL cannot make HOT and so writes into each of the table's indexes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_surveys_case_id", table_name="surveys")
    op.drop_index("ix_case_contacts_case_id", table_name="case_contacts")


def downgrade() -> None:
    op.create_index("ix_case_contacts_case_id", "case_contacts", ["case_id"], unique=False)
    op.create_index("ix_surveys_case_id", "surveys", ["case_id"], unique=False)
