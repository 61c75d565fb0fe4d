"""Add taxonomy revisions: the complaint categories an administrator edits.

An analysis's model version now also names the taxonomy it used (``+tax-<fingerprint>``)
and a deployment's own model directory, so the column is widened from 64 to 160.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import surveys.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taxonomy_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", surveys.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_taxonomy_revisions_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_revisions")),
    )
    with op.batch_alter_table("analyses") as batch_op:
        batch_op.alter_column("model_version", existing_type=sa.String(length=64), type_=sa.String(length=160))


def downgrade() -> None:
    with op.batch_alter_table("analyses") as batch_op:
        batch_op.alter_column("model_version", existing_type=sa.String(length=160), type_=sa.String(length=64))
    op.drop_table("taxonomy_revisions")
