"""Reading the audit log: the entries an administrator may see, filtered, paged and described in Chinese.

Writing it is :mod:`surveys.audit`. An administrator of a top-level unit (a city bureau)
sees every entry, the deployment's own included: changes made on the command line and
refused logins naming no account. An administrator of a lower unit sees what concerns
their subtree: what its staff did, and what anyone did to its accounts, tickets and units
(a city handler revealing a station's citizen's number is the station's business too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from nlp.urgency import default_urgency_screen
from surveys.logins import LOGIN, LOGIN_REFUSED
from surveys.models import AuditEntry, Ticket, Unit, User
from surveys.paging import clamp_page
from surveys.units import is_top_level, is_within, subtree_unit_ids

_Row = TypeVar("_Row", User, Unit, Ticket)

#: Entries on one page of the log.
AUDIT_PAGE_SIZE = 50

#: Every action the code records, as an administrator reads it (an unknown one shows as recorded).
ACTION_LABELS: dict[str, str] = {
    LOGIN: "登录",
    LOGIN_REFUSED: "登录失败",
    "phone.reveal": "查看完整号码",
    "urgency.dismiss": "标记预警误报",
    "urgency.propose_dismissal": "提出预警误报",
    "urgency.confirm_dismissal": "确认预警误报",
    "urgency.reject_dismissal": "驳回预警误报",
    "dispatch_policy.update": "修改回访设置",
    "dispatch_policy.clear": "清除单位回访设置",
    "taxonomy.update": "修改问题类别",
    "user.create": "新建账号",
    "user.deactivate": "停用账号",
    "user.set_role": "修改账号角色",
    "api_key.create": "新建接口密钥",
    "api_key.revoke": "停用接口密钥",
    "cases.import": "导入案件",
    "units.import": "导入单位",
    "retention.purge": "按保留期限删除号码",
}

_ROLE_LABELS = {"admin": "管理员", "supervisor": "督察", "handler": "办理人员"}

#: The keys of an entry's detail, as an administrator reads them; values are shown as stored.
_DETAIL_LABELS = {
    "via": "途径",
    "os_user": "系统用户",
    "kinds": "预警类型",
    "event_id": "工单记录",
    "file": "文件",
    "source": "来源系统",
    "created": "新增",
    "duplicates": "重复",
    "errors": "出错",
    "role": "角色",
    "unit": "单位代码",
    "username": "账号",
    "old": "原角色",
    "new": "新角色",
    "name": "名称",
    "prefix": "前缀",
    "days": "保留天数",
    "contacts": "删除号码",
    "suppressions": "删除退订号码",
    "added": "新增类别",
    "removed": "删除类别",
    "categories": "类别",
    "delay_minutes": "结案后发送（分钟）",
    "quiet_hours_start": "免打扰开始",
    "quiet_hours_end": "免打扰结束",
    "frequency_cap_days": "回访间隔（天）",
    "sampling_percent": "抽样比例（%）",
    "reminder_after_hours": "提醒（小时）",
    "expiry_days": "有效期（天）",
    "excluded_categories": "不回访的案件类别",
    "survey_template": "回访短信模板",
    "reminder_template": "提醒短信模板",
}
_HIDDEN_DETAIL = frozenset({"via", "os_user", "event_id"})  # said by the actor column, or internal


@dataclass(frozen=True)
class AuditFilter:
    """What an administrator narrows the log to; each field narrows further (AND)."""

    action: str | None = None
    #: A username, or part of a display name, of the staff member who acted.
    actor: str = ""
    #: From this moment on (inclusive)...
    since: dt.datetime | None = None
    #: ...until this one (exclusive).
    until: dt.datetime | None = None


UNFILTERED = AuditFilter()


@dataclass(frozen=True)
class AuditRow:
    """One entry as the log page shows it."""

    entry: AuditEntry
    #: Who acted: a staff member's name, 命令行（os user）, or 未登录 for a refused login.
    actor: str
    action: str
    #: What it was done to, in words (工单 #12, 账号 王警官（wang）…), or "".
    target: str
    #: The ticket to link to, when the target is one in the viewer's scope.
    ticket_id: int | None
    details: list[tuple[str, str]]


@dataclass(frozen=True)
class AuditPage:
    """One page of the filtered log, newest first, and where it stands in the whole."""

    rows: list[AuditRow]
    total: int
    number: int
    page_count: int


def audit_page(
    session: Session, scope: Unit, filters: AuditFilter = UNFILTERED, number: int = 1, page_size: int | None = None
) -> AuditPage:
    """Page ``number`` of the entries ``scope``'s administrators may see that match ``filters``.

    ``page_size`` is :data:`AUDIT_PAGE_SIZE` unless given.
    """
    page_size = page_size or AUDIT_PAGE_SIZE
    conditions = [*_visible_to(scope), *_conditions(filters)]
    total = int(session.scalar(select(func.count(AuditEntry.id)).where(*conditions)) or 0)
    number, page_count = clamp_page(number, total, page_size)
    stmt = (
        select(AuditEntry)
        .where(*conditions)
        .options(joinedload(AuditEntry.actor))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(page_size)
        .offset((number - 1) * page_size)
    )
    entries = list(session.scalars(stmt))
    return AuditPage(_describe(session, scope, entries), total, number, page_count)


def _visible_to(scope: Unit) -> list[ColumnElement[bool]]:
    """What ``scope``'s administrators may see (nothing to add for a top-level unit's)."""
    if is_top_level(scope):
        return []
    units = subtree_unit_ids(scope)
    staff = select(User.id).where(User.unit_id.in_(units))
    tickets = select(Ticket.id).where(Ticket.unit_id.in_(units))
    return [
        or_(
            AuditEntry.actor_id.in_(staff),
            and_(AuditEntry.target_type == "user", AuditEntry.target_id.in_(staff)),
            and_(AuditEntry.target_type == "ticket", AuditEntry.target_id.in_(tickets)),
            and_(AuditEntry.target_type == "unit", AuditEntry.target_id.in_(units)),
        )
    ]


def _conditions(filters: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.action:
        conditions.append(AuditEntry.action == filters.action)
    if filters.actor:
        named = select(User.id).where(
            or_(User.username == filters.actor, User.display_name.contains(filters.actor, autoescape=True))
        )
        conditions.append(AuditEntry.actor_id.in_(named))
    if filters.since is not None:
        conditions.append(AuditEntry.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditEntry.created_at < filters.until)
    return conditions


def _describe(session: Session, scope: Unit, entries: Sequence[AuditEntry]) -> list[AuditRow]:
    """The page's rows, their targets looked up with one query per kind of target.

    A ticket is linked only if it lies in ``scope``: an entry can be visible for its actor
    while the ticket is another subtree's.
    """
    users = _by_id(session, User, _target_ids(entries, "user"))
    units = _by_id(session, Unit, _target_ids(entries, "unit"))
    tickets = _by_id(session, Ticket, _target_ids(entries, "ticket"))
    rows = []
    for entry in entries:
        ticket = tickets.get(entry.target_id or 0) if entry.target_type == "ticket" else None
        rows.append(
            AuditRow(
                entry=entry,
                actor=_actor(entry),
                action=ACTION_LABELS.get(entry.action, entry.action),
                target=_target(entry, users, units),
                ticket_id=ticket.id if ticket is not None and is_within(ticket.unit, scope) else None,
                details=_details(entry.detail),
            )
        )
    return rows


def _target_ids(entries: Iterable[AuditEntry], target_type: str) -> set[int]:
    return {e.target_id for e in entries if e.target_type == target_type and e.target_id is not None}


def _by_id(session: Session, model: type[_Row], ids: set[int]) -> dict[int, _Row]:
    if not ids:
        return {}
    stmt = select(model).where(model.id.in_(ids))
    if model is Ticket:
        stmt = stmt.options(joinedload(Ticket.unit))
    return {row.id: row for row in session.scalars(stmt)}


def _actor(entry: AuditEntry) -> str:
    if entry.actor is not None:
        return f"{entry.actor.display_name}（{entry.actor.username}）"
    if entry.detail.get("via") == "cli":
        return f"命令行（{entry.detail.get('os_user', '')}）"
    return "未登录" if entry.action == LOGIN_REFUSED else "系统"


def _target(entry: AuditEntry, users: dict[int, User], units: dict[int, Unit]) -> str:
    target_id = entry.target_id
    match entry.target_type:
        case "user":
            user = users.get(target_id or 0)
            return f"账号 {user.display_name}（{user.username}）" if user else f"账号 #{target_id}（已删除）"
        case "unit":
            unit = units.get(target_id or 0)
            return f"单位 {unit.name}" if unit else f"单位 #{target_id}（已删除）"
        case "ticket":
            return f"工单 #{target_id}"
        case "deployment":
            return "全局回访设置"
        case "taxonomy_revision":
            return f"问题类别第 {target_id} 版"
        case "api_key":
            return f"接口密钥 #{target_id}"
        case None:
            return ""
        case other:
            return f"{other} #{target_id}"


def _details(detail: dict[str, Any]) -> list[tuple[str, str]]:
    shown = (key for key in detail if key not in _HIDDEN_DETAIL)
    return [(_DETAIL_LABELS.get(key, key), _value(key, detail[key])) for key in shown]


def _value(key: str, value: Any) -> str:
    if key in ("role", "old", "new") and isinstance(value, str):
        return _ROLE_LABELS.get(value, value)
    if key == "kinds" and isinstance(value, list):
        labels = default_urgency_screen().labels
        return "、".join(labels.get(str(kind), str(kind)) for kind in value)
    if isinstance(value, list):
        return "、".join(str(item) for item in value) or "（无）"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)
