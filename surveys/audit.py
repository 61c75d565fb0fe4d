"""Writing the audit log (who saw a full phone number, who changed what)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from surveys.models import AuditEntry


def record_audit(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    now: dt.datetime,
    target_type: str | None = None,
    target_id: int | None = None,
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """Append one audit entry; the caller's transaction commits it with the action itself."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail or {},
        ip_address=ip_address,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry
