"""Reading the audit log: who sees which entries, the filters, the pages and the Chinese rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from surveys.answers import AnswerInput, submit_answer
from surveys.audit import record_audit
from surveys.audit_log import UNFILTERED, AuditFilter, audit_page
from surveys.logins import LOGIN, LOGIN_REFUSED
from surveys.models import AuditEntry, Case, Channel, Role, Survey, Ticket, TicketPriority, Unit, User
from surveys.states import TicketStatus
from tests.factories import Tree


@pytest.fixture
def make_entry(session: Session, now: dt.datetime) -> Callable[..., AuditEntry]:
    """``make_entry(action, actor=None, minutes_ago=0, **fields)``: one audit entry as the code records it."""

    def factory(action: str, actor: User | None = None, minutes_ago: int = 0, **fields: Any) -> AuditEntry:
        at = now - dt.timedelta(minutes=minutes_ago)
        return record_audit(session, actor_id=actor.id if actor else None, action=action, now=at, **fields)

    return factory


@pytest.fixture
def ticket_in(
    session: Session, make_case: Callable[..., Case], make_survey: Callable[..., Survey], now: dt.datetime
) -> Callable[[Unit], Ticket]:
    """A ticket of ``unit`` as stored (its answer and analysis do not matter to the log)."""

    def factory(unit: Unit) -> Ticket:
        survey = make_survey(case=make_case(unit=unit))
        response = submit_answer(session, survey, AnswerInput(overall=1), Channel.WEB, now)
        ticket = Ticket(
            response=response,
            unit=unit,
            status=TicketStatus.NEW,
            priority=TicketPriority.NORMAL,
            deadline_at=now + dt.timedelta(days=3),
        )
        session.add(ticket)
        session.flush()
        return ticket

    return factory


def _actions(session: Session, scope: Unit, filters: AuditFilter = UNFILTERED) -> list[str]:
    return [row.entry.action for row in audit_page(session, scope, filters).rows]


def test_a_city_administrator_sees_every_entry_and_a_station_only_its_own_business(
    session: Session,
    tree: Tree,
    make_user: Callable[..., User],
    make_entry: Callable[..., AuditEntry],
    ticket_in: Callable[[Unit], Ticket],
):
    east_handler, west_handler = make_user(unit=tree.east_station), make_user(unit=tree.west_station)
    city_handler = make_user(unit=tree.city)
    make_entry(LOGIN, east_handler, 6, target_type="user", target_id=east_handler.id)
    make_entry(LOGIN, west_handler, 5, target_type="user", target_id=west_handler.id)
    make_entry(LOGIN_REFUSED, None, 4, target_type="user", target_id=east_handler.id)
    make_entry(LOGIN_REFUSED, None, 3)  # a username that names no account
    make_entry("phone.reveal", city_handler, 2, target_type="ticket", target_id=ticket_in(tree.east_station).id)
    make_entry("phone.reveal", city_handler, 1, target_type="ticket", target_id=ticket_in(tree.west_station).id)
    make_entry("user.create", None, 0, detail={"via": "cli", "os_user": "root"})

    assert len(_actions(session, tree.city)) == 7
    # the city handler's reveal of an east ticket, a wrong password for an east account, its login
    assert _actions(session, tree.east) == ["phone.reveal", LOGIN_REFUSED, LOGIN]
    assert _actions(session, tree.west_station) == ["phone.reveal", LOGIN]


def test_a_ticket_is_linked_only_inside_the_viewers_scope(
    session: Session,
    tree: Tree,
    make_user: Callable[..., User],
    make_entry: Callable[..., AuditEntry],
    ticket_in: Callable[[Unit], Ticket],
):
    east_handler = make_user(unit=tree.east)
    west_ticket = ticket_in(tree.west)
    make_entry("phone.reveal", east_handler, target_type="ticket", target_id=west_ticket.id)
    [row] = audit_page(session, tree.east).rows  # seen for its actor, an east handler
    assert (row.target, row.ticket_id) == (f"工单 #{west_ticket.id}", None)
    [row] = audit_page(session, tree.city).rows
    assert row.ticket_id == west_ticket.id


def test_the_filters_narrow_by_action_actor_and_time(
    session: Session,
    tree: Tree,
    make_user: Callable[..., User],
    make_entry: Callable[..., AuditEntry],
    now: dt.datetime,
):
    wang = make_user(unit=tree.city, username="wang", display_name="信访办 王警官")
    li = make_user(unit=tree.city, username="li", display_name="李警官")
    make_entry(LOGIN, wang, 120)
    make_entry("phone.reveal", wang, 60)
    make_entry("phone.reveal", li, 30)

    assert _actions(session, tree.city, AuditFilter(action="phone.reveal")) == ["phone.reveal"] * 2
    assert len(_actions(session, tree.city, AuditFilter(actor="wang"))) == 2
    assert len(_actions(session, tree.city, AuditFilter(actor="王警"))) == 2  # part of a display name
    assert _actions(session, tree.city, AuditFilter(actor="wan")) == []  # a username is matched whole
    assert _actions(session, tree.city, AuditFilter(actor="%")) == []  # no wildcard
    window = AuditFilter(since=now - dt.timedelta(minutes=90), until=now - dt.timedelta(minutes=30))
    assert _actions(session, tree.city, window) == ["phone.reveal"]  # the end is exclusive


def test_pages_run_newest_first_and_a_page_past_the_end_is_the_last(
    session: Session, tree: Tree, make_user: Callable[..., User], make_entry: Callable[..., AuditEntry]
):
    user = make_user(unit=tree.city)
    entries = [make_entry(LOGIN, user, minutes) for minutes in range(5)]  # entries[0] is the newest
    pages = [audit_page(session, tree.city, AuditFilter(), number, page_size=2) for number in (1, 2, 3, 9)]
    assert [[row.entry.id for row in page.rows] for page in pages[:3]] == [
        [entries[0].id, entries[1].id],
        [entries[2].id, entries[3].id],
        [entries[4].id],
    ]
    assert (pages[3].number, pages[3].page_count, pages[3].total) == (3, 3, 5)


def test_rows_say_who_did_what_to_what_in_chinese(
    session: Session,
    tree: Tree,
    make_user: Callable[..., User],
    make_entry: Callable[..., AuditEntry],
    ticket_in: Callable[[Unit], Ticket],
):
    admin = make_user(Role.ADMIN, tree.city, username="admin1", display_name="系统管理员")
    handler = make_user(unit=tree.east, username="zhao", display_name="赵警官")
    ticket = ticket_in(tree.east)
    cli = {"via": "cli", "os_user": "ops"}
    make_entry("user.set_role", None, 4, target_type="user", target_id=handler.id,
               detail={**cli, "username": "zhao", "old": "handler", "new": "supervisor"})  # fmt: skip
    make_entry("urgency.dismiss", handler, 3, target_type="ticket", target_id=ticket.id,
               detail={"event_id": 7, "kinds": ["threat", "self_harm"]})  # fmt: skip
    make_entry("dispatch_policy.update", admin, 2, target_type="unit", target_id=tree.east.id,
               detail={"sampling_percent": 50, "excluded_categories": []})  # fmt: skip
    make_entry(LOGIN_REFUSED, None, 1)
    make_entry("something.new", admin, 0, target_type="gadget", target_id=3)

    rows = {row.entry.action: row for row in audit_page(session, tree.city).rows}
    role = rows["user.set_role"]
    assert (role.actor, role.action, role.target) == ("命令行（ops）", "修改账号角色", "账号 赵警官（zhao）")
    assert role.details == [("账号", "zhao"), ("原角色", "办理人员"), ("新角色", "督察")]
    dismissal = rows["urgency.dismiss"]
    assert (dismissal.actor, dismissal.action) == ("赵警官（zhao）", "标记预警误报")
    assert dismissal.details == [("预警类型", "扬言报复/威胁人身、自伤自杀风险")]  # the event id is internal
    policy = rows["dispatch_policy.update"]
    assert (policy.target, policy.details) == (
        f"单位 {tree.east.name}",
        [("抽样比例（%）", "50"), ("不回访的案件类别", "（无）")],
    )
    refused = rows[LOGIN_REFUSED]
    assert (refused.actor, refused.action, refused.target) == ("未登录", "登录失败", "")
    unknown = rows["something.new"]  # an action added without a label still shows
    assert (unknown.action, unknown.target) == ("something.new", "gadget #3")
