"""Add question sets and citizen survey details.

No schema change turned out to be needed, and this revision stays a no-op so the chain
keeps its numbering. Question sets are versioned package data
(``surveys/resources/question_sets/<name>.v<N>.json``), not rows: they change only with
a release, and an old version must stay readable exactly as it was shipped. Each
response already stores what the citizen was asked and answered: ``question_set_version``
(now a full reference such as ``alarm_110.v1``), ``dimension_ratings`` and ``reasons``
(stable keys of that set), the comment (Text: Traditional Chinese and 4-byte emoji are
stored intact on PostgreSQL's UTF8 and on SQLite), and the unique ``survey_id`` that
makes a second answer impossible.

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
