"""Add question sets and citizen survey details.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 01:00:00
"""

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
