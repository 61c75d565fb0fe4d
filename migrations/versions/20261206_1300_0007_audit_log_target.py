"""Index audit_log by its target: a login counts the wrong passwords tried on the account.

Every login counts the refused logins naming the user since the previous one
(surveys.logins); without this index that is a scan of the audit log, which grows with
every audited action.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_target", table_name="audit_log")
