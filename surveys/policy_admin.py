"""Administrators changing the dispatch policy: validation, saving, and what a template costs.

An override stores only what the administrator set; a blank field inherits (from the
parent units, the deployment row, the environment). Every change is audited, because a
policy decides which citizens are contacted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.audit import record_audit
from surveys.errors import ValidationError
from surveys.messages import segment_count, template_problems, worst_case_text
from surveys.models import DispatchPolicy, SmsKind, Unit, User
from surveys.policy import Policy, PolicyOverrides
from surveys.settings import SURVEY_DELAY_MINUTES_RANGE, SURVEY_EXPIRY_DAYS_RANGE, Settings
from surveys.units import in_subtree

#: Accepted ranges of the numeric settings (inclusive), with the form's Chinese name.
#: Delay and expiry share the environment's ranges, so a value valid in one place is valid
#: in the other.
LIMITS: Mapping[str, tuple[int, int, str]] = {
    "delay_minutes": (*SURVEY_DELAY_MINUTES_RANGE, "结案后延迟（分钟）"),
    "frequency_cap_days": (0, 365, "同一号码回访间隔（天）"),
    "sampling_percent": (0, 100, "抽样比例（%）"),
    "reminder_after_hours": (0, 14 * 24, "提醒间隔（小时）"),
    "expiry_days": (*SURVEY_EXPIRY_DAYS_RANGE, "评价有效期（天）"),
}


class PolicyValidationError(ValidationError):
    """Every problem of one submitted policy, by field (the form shows them all)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        first_field, first_reason = next(iter(errors.items()))
        super().__init__(first_field, first_reason)
        self.errors = dict(errors)


@dataclass(frozen=True)
class TemplateCheck:
    """How long a template's longest text is, and the warning if it costs more than one SMS."""

    kind: SmsKind
    worst_case: str
    segments: int
    warning: str | None


def validate_overrides(change: PolicyOverrides) -> None:
    """Raise :class:`PolicyValidationError` listing every problem of ``change``."""
    errors: dict[str, str] = {}
    for name, (low, high, label) in LIMITS.items():
        value = getattr(change, name)
        if value is not None and not low <= value <= high:
            errors[name] = f"{label}应在 {low} 到 {high} 之间"
    if (change.quiet_hours_start is None) != (change.quiet_hours_end is None):
        errors["quiet_hours_start"] = "免打扰时段的开始和结束时间要么都填，要么都不填"
    elif change.quiet_hours_start is not None and change.quiet_hours_end is not None:
        errors |= _quiet_hours_problems(change.quiet_hours_start, change.quiet_hours_end)
    for name, kind in (("survey_template", SmsKind.SURVEY), ("reminder_template", SmsKind.REMINDER)):
        template = getattr(change, name)
        if template is not None and (problems := template_problems(template, kind)):
            errors[name] = "；".join(problems)
    if errors:
        raise PolicyValidationError(errors)


def _quiet_hours_problems(start: dt.time, end: dt.time) -> dict[str, str]:
    """Why a quiet window would not work as it reads, by field; empty if it is fine.

    Equal ends make an empty window, which silently turns quiet hours off. A time with
    seconds or a time zone is not whole local minutes: the window opens on the minute
    (``surveys.policy.next_send_window``), so an end of 08:00:30 would postpone every
    due survey by a day, forever. The form submits HH:MM only; other callers might not.
    """
    problems = {
        name: "免打扰时间只能精确到分钟（如 08:00），不能带秒或时区"
        for name, value in (("quiet_hours_start", start), ("quiet_hours_end", end))
        if value.second or value.microsecond or value.tzinfo is not None
    }
    if not problems and start == end:
        problems["quiet_hours_end"] = "免打扰结束时间不能与开始时间相同：那样免打扰时段为空，夜间也会发送"
    return problems


def policy_row(session: Session, unit: Unit | None) -> DispatchPolicy | None:
    """The override row of ``unit`` (None: the deployment-wide row), if there is one."""
    condition = DispatchPolicy.unit_id.is_(None) if unit is None else DispatchPolicy.unit_id == unit.id
    return session.scalars(select(DispatchPolicy).where(condition)).one_or_none()


def save_policy(
    session: Session, unit: Unit | None, change: PolicyOverrides, actor: User, now: dt.datetime
) -> DispatchPolicy:
    """Validate and store the overrides of ``unit`` (None: the deployment), with an audit entry."""
    validate_overrides(change)
    row = policy_row(session, unit)
    if row is None:
        row = DispatchPolicy(unit_id=unit.id if unit else None)
        session.add(row)
    stored = {f.name: getattr(change, f.name) for f in fields(PolicyOverrides)}
    if change.excluded_categories is not None:
        stored["excluded_categories"] = sorted(c.value for c in change.excluded_categories)
    for name, value in stored.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by_id = now, actor.id
    record_audit(
        session,
        actor_id=actor.id,
        action="dispatch_policy.update",
        now=now,
        target_type="unit" if unit else "deployment",
        target_id=unit.id if unit else None,
        detail={k: (v.isoformat() if isinstance(v, dt.time) else v) for k, v in stored.items() if v is not None},
    )
    return row


def clear_policy(session: Session, unit: Unit, actor: User, now: dt.datetime) -> bool:
    """Remove ``unit``'s overrides so it inherits everything again; False if it had none."""
    row = policy_row(session, unit)
    if row is None:
        return False
    session.delete(row)
    record_audit(
        session, actor_id=actor.id, action="dispatch_policy.clear", now=now, target_type="unit", target_id=unit.id
    )
    return True


def longest_unit_name(session: Session, root: Unit | None) -> str:
    """The longest unit name under ``root`` (all units for None): the worst case of {unit}."""
    stmt = select(Unit.name).order_by(func.length(Unit.name).desc(), Unit.id).limit(1)
    if root is not None:
        stmt = stmt.where(in_subtree(Unit.path, root))
    return session.scalar(stmt) or ""


def template_checks(policy: Policy, settings: Settings, unit_name: str) -> list[TemplateCheck]:
    """The worst-case length of the survey and reminder texts, warning beyond one segment."""
    checks = []
    for kind, template in ((SmsKind.SURVEY, policy.survey_template), (SmsKind.REMINDER, policy.reminder_template)):
        text = worst_case_text(template, settings.sms_signature, unit_name, settings.public_base_url)
        segments = segment_count(text)
        warning = (
            f"按最长的单位名称“{unit_name}”计算，这条短信有 {len(text)} 个字，"
            f"超过一条短信（70 字），将按 {segments} 条发送和计费"
            if segments > 1
            else None
        )
        checks.append(TemplateCheck(kind, text, segments, warning))
    return checks
