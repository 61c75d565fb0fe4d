"""Migration 0002 on a database that already holds messages: backfilled, and reversible."""

from __future__ import annotations

from sqlalchemy import Engine, text

from surveys.schema import downgrade, upgrade

ROWS = """
INSERT INTO units (id, code, name, level, path, created_at)
    VALUES (900001, 'M900001', '迁移测试所', 'station', '/900001/', '2026-11-01');
INSERT INTO contacts (id, phone_e164, created_at) VALUES (900001, '+861380000900001', '2026-11-01');
INSERT INTO cases (id, source, external_no, unit_id, category, closed_at, is_sensitive, is_planned, created_at)
    VALUES (900001, 'm', 'M1', 900001, 'alarm_110', '2026-11-01', false, true, '2026-11-01');
INSERT INTO surveys (id, case_id, contact_id, citizen_role, token, status, due_at, attempts, planned_at)
    VALUES (900001, 900001, 900001, 'reporter', 'migrationtok', 'sent', '2026-11-01', 1, '2026-11-01');
INSERT INTO sms_messages (id, direction, survey_id, phone_e164, body, provider, provider_message_id, created_at)
    VALUES (900001, 'outbound', 900001, '+861380000900001', '【民意回访】…', 'twilio', 'SM9001', '2026-11-01'),
           (900002, 'inbound', NULL, '+861380000900001', '5', 'twilio', 'SM9002', '2026-11-01');
"""
CLEANUP = ["sms_messages", "surveys", "cases", "contacts", "units"]


def test_existing_messages_are_backfilled_and_the_migration_can_be_undone(engine: Engine):
    downgrade(engine, "0001")
    try:
        with engine.begin() as conn:
            for statement in ROWS.split(";"):
                if statement.strip():
                    conn.execute(text(statement))
        upgrade(engine, "0002")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, kind, send_status, attempts, template_params FROM sms_messages ORDER BY id")
            ).all()
        assert [(r.id, r.kind, r.send_status, r.attempts) for r in rows] == [
            (900001, "survey", "sent", 1),
            (900002, "reply", None, 0),
        ]
        downgrade(engine, "0001")
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM sms_messages")) == 2
    finally:
        with engine.begin() as conn:  # before the later migrations, which are not under test here
            for table in CLEANUP:
                conn.execute(text(f"DELETE FROM {table} WHERE id >= 900001"))  # noqa: S608  (fixed table names)
        upgrade(engine)
