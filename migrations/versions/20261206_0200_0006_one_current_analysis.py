"""At most one current analysis per response, enforced by a unique partial index.

Replaces the plain index on (response_id, is_current). Rows that an older version may
have left with two current analyses of one response keep the newest as current first,
so the unique index can be built.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CURRENT = sa.text("is_current")


def upgrade() -> None:
    op.execute(
        """
        UPDATE analyses SET is_current = false
        WHERE is_current AND id < (
            SELECT max(newer.id) FROM analyses AS newer
            WHERE newer.response_id = analyses.response_id AND newer.is_current
        )
        """
    )
    with op.batch_alter_table("analyses") as batch_op:
        batch_op.drop_index("ix_analyses_response_id_is_current")
        batch_op.create_index(
            "uq_analyses_current_response_id",
            ["response_id"],
            unique=True,
            postgresql_where=_CURRENT,
            sqlite_where=_CURRENT,
        )


def downgrade() -> None:
    with op.batch_alter_table("analyses") as batch_op:
        batch_op.drop_index("uq_analyses_current_response_id")
        batch_op.create_index("ix_analyses_response_id_is_current", ["response_id", "is_current"], unique=False)
