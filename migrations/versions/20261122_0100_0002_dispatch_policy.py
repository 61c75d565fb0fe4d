"""Add dispatch policy, reminders and provider tracking.

Administrators' policy overrides (deployment-wide and per unit), suppressed phone
numbers, the shared send-rate cursor, the reminder schedule on surveys, and the outbox
and reply columns of ``sms_messages``. Existing messages were all survey invitations
recorded after sending (or inbound replies), which is what the backfill says.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import surveys.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SMS_KIND = sa.Enum(
    "survey", "reminder", "opt_out_confirmation", "reply", name="sms_kind", native_enum=False, create_constraint=True
)
_SEND_STATUS = sa.Enum(
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "unknown",
    "cancelled",
    name="sms_send_status",
    native_enum=False,
    create_constraint=True,
)
_REPLY_OUTCOME = sa.Enum(
    "rating",
    "comment_added",
    "comment_pending",
    "opt_out",
    "repeated_opt_out",
    "already_answered",
    "no_survey",
    "unknown_phone",
    "empty",
    name="sms_reply_outcome",
    native_enum=False,
    create_constraint=True,
)
_INBOUND_ONLY = sa.text("direction = 'inbound'")


def upgrade() -> None:
    op.create_table(
        "phone_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=False),
        sa.Column("created_at", surveys.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_suppressions")),
        sa.UniqueConstraint("phone_e164", name=op.f("uq_phone_suppressions_phone_e164")),
    )
    op.create_table(
        "sms_send_rate_cursors",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("next_slot_at", surveys.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("provider", name=op.f("pk_sms_send_rate_cursors")),
    )
    op.create_table(
        "dispatch_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("delay_minutes", sa.Integer(), nullable=True),
        sa.Column("quiet_hours_start", sa.Time(), nullable=True),
        sa.Column("quiet_hours_end", sa.Time(), nullable=True),
        sa.Column("frequency_cap_days", sa.Integer(), nullable=True),
        sa.Column("sampling_percent", sa.Integer(), nullable=True),
        sa.Column("reminder_after_hours", sa.Integer(), nullable=True),
        sa.Column("expiry_days", sa.Integer(), nullable=True),
        sa.Column("excluded_categories", sa.JSON(), nullable=True),
        sa.Column("survey_template", sa.Text(), nullable=True),
        sa.Column("reminder_template", sa.Text(), nullable=True),
        sa.Column("updated_at", surveys.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)",
            name=op.f("ck_dispatch_policies_quiet_hours_start_and_end_together"),
        ),
        sa.CheckConstraint("delay_minutes >= 0", name=op.f("ck_dispatch_policies_delay_minutes_not_negative")),
        sa.CheckConstraint("expiry_days >= 1", name=op.f("ck_dispatch_policies_expiry_days_positive")),
        sa.CheckConstraint(
            "frequency_cap_days >= 0", name=op.f("ck_dispatch_policies_frequency_cap_days_not_negative")
        ),
        sa.CheckConstraint(
            "reminder_after_hours >= 0", name=op.f("ck_dispatch_policies_reminder_after_hours_not_negative")
        ),
        sa.CheckConstraint(
            "sampling_percent BETWEEN 0 AND 100", name=op.f("ck_dispatch_policies_sampling_percent_range")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_dispatch_policies_unit_id_units"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_dispatch_policies_updated_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_policies")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_dispatch_policies_unit_id")),
    )

    # New NOT NULL columns are added nullable, backfilled, then tightened, so the
    # migration also works on a database that already holds messages.
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", _SMS_KIND, nullable=True))
        batch_op.add_column(sa.Column("template_params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("send_status", _SEND_STATUS, nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("due_at", surveys.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", surveys.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reply_outcome", _REPLY_OUTCOME, nullable=True))
    sms = sa.table(
        "sms_messages",
        sa.column("direction", sa.String),
        sa.column("kind", sa.String),
        sa.column("template_params", sa.JSON),
        sa.column("send_status", sa.String),
        sa.column("attempts", sa.Integer),
    )
    op.execute(
        sms.update()
        .where(sms.c.direction == "outbound")
        .values(kind="survey", send_status="sent", attempts=1, template_params={})
    )
    op.execute(sms.update().where(sms.c.direction == "inbound").values(kind="reply", attempts=0, template_params={}))
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=_SMS_KIND, nullable=False)
        batch_op.alter_column("template_params", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("attempts", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_sms_messages_send_status_due_at", ["send_status", "due_at"], unique=False)
        batch_op.create_index(
            "uq_sms_messages_inbound_provider_message_id",
            ["provider", "provider_message_id"],
            unique=True,
            postgresql_where=_INBOUND_ONLY,
            sqlite_where=_INBOUND_ONLY,
        )

    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remind_at", surveys.db.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_surveys_status_remind_at", ["status", "remind_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_surveys_status_remind_at")
        batch_op.drop_column("remind_at")

    # Outbox rows that never left (queued, cancelled) have no meaning in the old schema.
    sms = sa.table("sms_messages", sa.column("send_status", sa.String))
    op.execute(sms.delete().where(sms.c.send_status.in_(["queued", "sending", "cancelled"])))
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sms_messages_inbound_provider_message_id", postgresql_where=_INBOUND_ONLY, sqlite_where=_INBOUND_ONLY
        )
        batch_op.drop_index("ix_sms_messages_send_status_due_at")
        # SQLite's table copy would otherwise keep the enums' CHECKs on dropped columns.
        for enum_name in ("sms_reply_outcome", "sms_send_status", "sms_kind"):
            batch_op.drop_constraint(op.f(f"ck_sms_messages_{enum_name}"), type_="check")
        batch_op.drop_column("reply_outcome")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("send_status")
        batch_op.drop_column("template_params")
        batch_op.drop_column("kind")

    op.drop_table("dispatch_policies")
    op.drop_table("sms_send_rate_cursors")
    op.drop_table("phone_suppressions")
