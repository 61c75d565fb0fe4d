"""The handler queue: scope, order, actions and the audited phone reveal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from collections.abc import Callable

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from nlp import get_default_analyzer
from surveys.analysis import store_analysis
from surveys.errors import InvalidTransitionError, ValidationError
from surveys.models import Role, Ticket, TicketEvent, TicketPriority, User
from surveys.states import TicketStatus
from surveys.triage import add_ticket_note, change_ticket_status, current_analysis, open_ticket_if_needed
from surveys.urgency_dismissal import confirm_urgency_dismissal, dismiss_urgent_flags
from tests.factories import TEST_PASSWORD, AuthActions, Tree, audit_trail


@pytest.fixture
def city_handler(auth: AuthActions, tree: Tree, make_user: Callable[..., User]) -> User:
    """A handler of the whole city, logged in."""
    handler = make_user(Role.HANDLER, tree.city)
    auth.login(handler.username)
    return handler


def test_queue_is_scoped_to_the_users_subtree(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    east = make_ticket(tree.east_station, comment="东边的民警态度很差")
    west = make_ticket(tree.west_station, comment="西边的出警太慢了")
    auth.login(make_user(Role.HANDLER, tree.east).username)
    page = client.get("/triage/").get_data(as_text=True)
    assert f"#{east.id}" in page
    assert f"#{west.id}" not in page
    assert client.get(f"/triage/{west.id}").status_code == 404
    assert client.get(f"/triage/{east.id}").status_code == 200


@pytest.mark.parametrize("ticket_id", ["0", str(2**31), "99999999999999999999"])
def test_a_ticket_id_no_row_can_have_is_an_unknown_page(city_handler: User, client: FlaskClient, ticket_id: str):
    page = client.get(f"/triage/{ticket_id}")
    assert page.status_code == 404
    assert "页面不存在" in page.get_data(as_text=True)


def test_urgent_tickets_come_first(
    client: FlaskClient,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    city_handler: User,
):
    normal = make_ticket(tree.east_station, overall=2, comment="等得有点久")
    urgent = make_ticket(tree.east_station, overall=1, comment="民警收了对方的红包，我要去北京上访")
    assert urgent.priority is TicketPriority.URGENT
    page = client.get("/triage/").get_data(as_text=True)
    assert page.index(f"#{urgent.id}") < page.index(f"#{normal.id}")


def test_ticket_moves_through_its_states_with_events(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    city_handler: User,
):
    ticket = make_ticket(tree.east_station)
    for target, note in [("assigned", ""), ("in_progress", ""), ("resolved", "已电话回访，群众表示理解")]:
        response = client.post(f"/triage/{ticket.id}/status", data={"status-status": target, "status-note": note})
        assert response.status_code == 302, response.get_data(as_text=True)
    session.refresh(ticket)
    assert ticket.status is TicketStatus.RESOLVED
    assert ticket.resolved_at is not None
    kinds = [(e.kind, e.to_status) for e in ticket.events]
    assert kinds == [("created", "new"), ("status", "assigned"), ("status", "in_progress"), ("status", "resolved")]
    closed = client.post(f"/triage/{ticket.id}/status", data={"status-status": "closed", "status-note": "回访满意"})
    assert closed.status_code == 302
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "<p>工单已关闭。</p>" in page
    assert 'id="status-status"' not in page  # no step left to choose


def test_illegal_transition_and_missing_note_are_refused(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    city_handler: User,
):
    ticket = make_ticket(tree.east_station)
    assert client.post(f"/triage/{ticket.id}/status", data={"status-status": "closed"}).status_code == 400
    client.post(f"/triage/{ticket.id}/status", data={"status-status": "in_progress"})
    refused = client.post(f"/triage/{ticket.id}/status", data={"status-status": "resolved", "status-note": " "})
    assert refused.status_code == 400
    assert '<p class="field-error">办结或关闭时请填写处理情况</p>' in refused.get_data(as_text=True)  # beside the note
    session.refresh(ticket)
    assert ticket.status is TicketStatus.IN_PROGRESS


def _options(client: FlaskClient, ticket: Ticket, select_id: str) -> list[tuple[str, str, bool]]:
    """The options of a select of the ticket page: (value, label, selected)."""
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    select = re.search(rf'<select id="{select_id}".*?</select>', page, flags=re.DOTALL)
    assert select is not None
    options = re.findall(r'<option( selected)? value="([^"]*)">([^<]*)</option>', select.group(0))
    return [(value, label, bool(selected)) for selected, value, label in options]


def _next_steps(client: FlaskClient, ticket: Ticket) -> list[tuple[str, str, bool]]:
    """The 下一步 options."""
    return _options(client, ticket, "status-status")


def _offered(client: FlaskClient, ticket: Ticket) -> list[tuple[str, str, bool]]:
    """The 分派给 options: (user id, name, selected)."""
    return _options(client, ticket, "status-assignee")


def test_the_next_step_is_chosen_not_preselected_and_offered_in_workflow_order(
    client: FlaskClient, session: Session, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    ticket = make_ticket(tree.east_station)
    change_ticket_status(session, ticket, TicketStatus.IN_PROGRESS, city_handler, ticket.created_at)
    assert _next_steps(client, ticket) == [  # none selected: the browser shows the first
        ("", "请选择", False),
        ("escalated", "已升级", False),
        ("resolved", "已办结待回访", False),
    ]
    refused = client.post(f"/triage/{ticket.id}/status", data={"status-status": ""})
    assert refused.status_code == 400
    assert '<p class="field-error">请选择下一步</p>' in refused.get_data(as_text=True)
    session.refresh(ticket)
    assert ticket.status is TicketStatus.IN_PROGRESS


def _assign(client: FlaskClient, ticket: Ticket, assignee: User) -> TestResponse:
    """Post the 已分派 step (or 改派) giving ``ticket`` to ``assignee``."""
    return client.post(
        f"/triage/{ticket.id}/status", data={"status-status": "assigned", "status-assignee": str(assignee.id)}
    )


def test_a_ticket_is_assigned_to_the_chosen_handler_and_handed_on(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_handler: User,
):
    ticket = make_ticket(tree.east_station)
    east = make_user(Role.HANDLER, tree.east, display_name="东区办理")
    station = make_user(Role.HANDLER, tree.east_station, display_name="所里办理")
    make_user(Role.HANDLER, tree.west, display_name="西区办理")  # the ticket is not in their scope
    make_user(Role.SUPERVISOR, tree.city, display_name="督察")  # does not work tickets
    offered = _offered(client, ticket)  # by name, in the database's collation
    assert sorted(name for _, name, _ in offered) == sorted([city_handler.display_name, "东区办理", "所里办理"])
    assert [value for value, _, selected in offered if selected] == [str(city_handler.id)]  # the user, by default

    assigned = _assign(client, ticket, east)
    assert assigned.status_code == 302
    session.refresh(ticket)
    assert ticket.assignee == east
    assert ("assigned", "改派他人", False) in _next_steps(client, ticket)
    assert _assign(client, ticket, east).status_code == 400  # 改派 to the holder: not offered, refused
    with pytest.raises(ValidationError, match="工单已经分派给东区办理，改派请选择其他人"):
        change_ticket_status(session, ticket, TicketStatus.ASSIGNED, city_handler, ticket.created_at, assignee=east)
    handed = _assign(client, ticket, station)
    assert handed.status_code == 302
    session.refresh(ticket)
    assert ticket.assignee == station
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "<dt>经办人</dt><dd>所里办理</dd>" in page
    assert "待分派 → 已分派（分派给 东区办理）" in page
    assert "改派给 所里办理" in page
    assert 'title="经办人">所里办理</span>' in client.get("/triage/").get_data(as_text=True)


def _seen(client: FlaskClient, ticket: Ticket) -> str:
    """The status and holder the ticket page shows now, as its form posts them back."""
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    found = re.search(r'id="status-seen" name="status-seen" type="hidden" value="([^"]*)"', page)
    assert found is not None
    return found.group(1)


def test_a_step_from_a_page_made_out_of_date_is_refused(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_handler: User,
):
    ticket = make_ticket(tree.east_station)
    seen = _seen(client, ticket)
    assert seen == "new:"
    colleague = make_user(Role.HANDLER, tree.east, display_name="同事")
    change_ticket_status(session, ticket, TicketStatus.ASSIGNED, colleague, ticket.created_at, assignee=colleague)
    stale = client.post(
        f"/triage/{ticket.id}/status",
        data={"status-status": "assigned", "status-assignee": str(city_handler.id), "status-seen": seen},
    )
    assert stale.status_code == 400
    assert '<p class="field-error">工单刚被他人更新，请查看最新状态后再操作</p>' in stale.get_data(as_text=True)
    session.refresh(ticket)
    assert ticket.assignee == colleague
    fresh = client.post(
        f"/triage/{ticket.id}/status",
        data={"status-status": "in_progress", "status-seen": _seen(client, ticket)},
    )
    assert fresh.status_code == 302
    forged = client.post(f"/triage/{ticket.id}/status", data={"status-status": "escalated", "status-seen": "x:1"})
    assert "页面已过期，请刷新后再操作" in forged.get_data(as_text=True)


def test_the_assignee_offered_first_is_someone_who_may_take_it(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_handler: User,
):
    ticket = make_ticket(tree.east_station)
    former = make_user(Role.HANDLER, tree.east, display_name="原经办")
    change_ticket_status(session, ticket, TicketStatus.ASSIGNED, former, ticket.created_at, assignee=former)
    offered = _offered(client, ticket)
    assert "原经办" not in offered  # 改派 goes to someone else
    assert offered[0] == (str(city_handler.id), city_handler.display_name, True)
    change_ticket_status(session, ticket, TicketStatus.ESCALATED, former, ticket.created_at)
    former.is_active = False
    first_by_name = make_user(Role.HANDLER, tree.city, display_name="A 组")
    session.flush()
    assert _offered(client, ticket) == [  # the user, not whoever sorts first
        (str(first_by_name.id), "A 组", False),
        (str(city_handler.id), city_handler.display_name, True),
    ]


def test_nobody_outside_the_tickets_scope_can_be_given_it(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_handler: User,
):
    ticket = make_ticket(tree.east_station)
    west = make_user(Role.HANDLER, tree.west, display_name="西区办理")
    refused = _assign(client, ticket, west)
    assert refused.status_code == 400
    assert '<p class="field-error">只能分派给能办理这个单位工单的人员</p>' in refused.get_data(as_text=True)
    with pytest.raises(ValidationError, match="不能办理这个单位的工单"):
        change_ticket_status(session, ticket, TicketStatus.ASSIGNED, city_handler, ticket.created_at, assignee=west)
    session.refresh(ticket)
    assert (ticket.status, ticket.assignee) == (TicketStatus.NEW, None)


def test_the_ticket_page_shows_the_whole_answer_and_the_corrected_category(
    client: FlaskClient, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    ticket = make_ticket(
        tree.east_station,
        overall=2,
        dimension_ratings={"dispatch_speed": 1, "call_attitude": 4},
        reasons=["slow_dispatch", "no_feedback"],
    )
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "<dt>接警态度</dt><dd>好</dd>" in page
    assert "<dt>出警速度</dt><dd>很差</dd>" in page
    assert "勾选的问题：出警慢，等了很久；没有告知处理结果" in page
    assert "已人工更正" not in page
    client.post(f"/triage/{ticket.id}/category", data={"category-category": "处理结果"})
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert '<dt>工单类别</dt><dd>处理结果<span class="hint">（已人工更正）</span></dd>' in page


def test_resolved_tickets_awaiting_their_call_back_are_one_link_away(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    city_handler: User,
    now: dt.datetime,
):
    open_ticket, resolved = make_ticket(tree.east_station), make_ticket(tree.east_station)
    for status in (TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED):
        change_ticket_status(session, resolved, status, city_handler, now, note="已整改")
    resolved.deadline_at = now - dt.timedelta(days=1)
    session.flush()
    page = client.get("/triage/").get_data(as_text=True)
    assert _listed(client) == [open_ticket.id]
    assert '<a class="button" href="/triage/?status=resolved">已办结待回访 1</a>' in page
    assert _listed(client, "?status=resolved") == [resolved.id]
    assert '<span class="badge overdue">' not in client.get("/triage/?status=resolved").get_data(as_text=True)
    assert _listed(client, f"?q={resolved.id}") == [resolved.id]  # a search finds it too
    assert _listed(client, f"?q={resolved.id}&overdue=y") == []  # its deadline was met
    assert "已办结待回访 1</a>" not in client.get("/triage/?status=resolved").get_data(as_text=True)


def test_tickets_given_to_the_handler_are_one_link_away(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_handler: User,
    now: dt.datetime,
):
    colleague = make_user(Role.HANDLER, tree.city)
    mine, theirs, _unassigned = (make_ticket(tree.east_station) for _ in range(3))
    change_ticket_status(session, mine, TicketStatus.ASSIGNED, colleague, now, assignee=city_handler)
    change_ticket_status(session, theirs, TicketStatus.ASSIGNED, city_handler, now, assignee=colleague)
    session.flush()
    assert '<a class="button" href="/triage/?mine=y">分派给我的 1</a>' in client.get("/triage/").get_data(as_text=True)
    assert _listed(client, "?mine=y") == [mine.id]
    assert "分派给我的 1</a>" not in client.get("/triage/?mine=y").get_data(as_text=True)
    change_ticket_status(session, mine, TicketStatus.IN_PROGRESS, city_handler, now, note="已联系")
    change_ticket_status(session, mine, TicketStatus.RESOLVED, city_handler, now, note="已整改")
    session.flush()
    assert 'href="/triage/?mine=y"' not in client.get("/triage/").get_data(as_text=True)  # done: off the list


def test_a_number_in_the_comment_is_masked_until_the_audited_reveal(
    client: FlaskClient, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    ticket = make_ticket(tree.east_station, comment="民警态度很差，请打我电话13812345678，我要投诉")
    with client.get("/triage/export.xlsx") as exported:
        sheet = str(_sheet_cells(exported.data))
    pages = [client.get(url).get_data(as_text=True) for url in (f"/triage/{ticket.id}", "/triage/")]
    for text in (*pages, sheet):
        assert "138****5678" in text
        assert "13812345678" not in text
    revealed = client.post(f"/triage/{ticket.id}/phone").get_data(as_text=True)
    assert "请打我电话13812345678" in revealed


def test_recategorisation_is_recorded_as_a_label(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    city_handler: User,
):
    ticket = make_ticket(tree.east_station)
    assert client.post(f"/triage/{ticket.id}/category", data={"category-category": "执法规范"}).status_code == 302
    assert client.post(f"/triage/{ticket.id}/category", data={"category-category": "不存在"}).status_code == 400
    session.refresh(ticket)
    assert ticket.category == "执法规范"
    event = session.scalars(select(TicketEvent).where(TicketEvent.kind == "recategorized")).one()
    assert event.data["to"] == "执法规范"
    assert event.data["comment"] == ticket.response.comment


def test_full_phone_is_shown_only_on_request_and_audited(
    client: FlaskClient, session: Session, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    ticket = make_ticket(tree.east_station)
    phone = ticket.response.survey.contact.phone_e164
    assert phone not in client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    revealed = client.post(f"/triage/{ticket.id}/phone")
    assert phone in revealed.get_data(as_text=True)
    [entry] = audit_trail(session)
    assert (entry.actor_id, entry.action, entry.target_id) == (city_handler.id, "phone.reveal", ticket.id)


@pytest.fixture
def city_supervisor(auth: AuthActions, tree: Tree, make_user: Callable[..., User]) -> User:
    """A supervisor of the whole city, logged in."""
    supervisor = make_user(Role.SUPERVISOR, tree.city)
    auth.login(supervisor.username)
    return supervisor


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("status", {"status-status": "assigned", "status-note": "我来推进"}),
        ("category", {"category-category": "办案效率"}),
        ("phone", {}),
        ("urgency-dismissal", {"dismiss-note": "误报"}),
        ("urgency-dismissal/confirm", {"review-note": "同意", "review-proposal": "1"}),
        ("urgency-dismissal/reject", {"review-note": "不同意", "review-proposal": "1"}),
    ],
)
def test_a_supervisor_cannot_work_a_ticket(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    city_supervisor: User,
    action: str,
    form: dict[str, str],
):
    ticket = make_ticket(tree.east_station)
    before = (ticket.status, ticket.category)
    assert client.post(f"/triage/{ticket.id}/{action}", data=form).status_code == 403
    session.expire_all()
    assert (ticket.status, ticket.category) == before
    assert audit_trail(session) == []


def test_a_supervisor_sees_the_ticket_and_leaves_a_note_but_no_call_back(
    client: FlaskClient, session: Session, tree: Tree, make_ticket: Callable[..., Ticket], city_supervisor: User
):
    ticket = make_ticket(tree.east_station)
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "督办意见" in page
    for handler_only in ("/status", "/category", "/phone", 'value="callback"'):
        assert handler_only not in page
    callback = client.post(f"/triage/{ticket.id}/note", data={"note-kind": "callback", "note-note": "已回访"})
    assert callback.status_code == 400
    note = client.post(f"/triage/{ticket.id}/note", data={"note-kind": "note", "note-note": "请三日内办结"})
    assert note.status_code == 302
    notes = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()
    assert [(e.kind, e.note, e.actor_id) for e in notes if e.kind in {"note", "callback"}] == [
        ("note", "请三日内办结", city_supervisor.id)
    ]


def test_a_supervisors_note_reads_as_an_instruction(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_supervisor: User,
    now: dt.datetime,
):
    """A supervisor's note is a 督办意见: no one-option choice of kind, and so named in the history."""
    ticket = make_ticket(tree.east_station)
    handler = make_user(Role.HANDLER, tree.city, display_name="李办理")
    add_ticket_note(session, ticket, handler, now, "已联系群众", "note")
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert 'name="note-kind"' not in page
    assert client.post(f"/triage/{ticket.id}/note", data={"note-note": "请三日内办结"}).status_code == 302
    history = _history(client, ticket)
    assert history[-2].endswith("李办理： 备注 — 已联系群众")
    assert history[-1].endswith(f"{city_supervisor.display_name}： 督办意见 — 请三日内办结")


def test_a_handler_marks_urgent_flags_as_a_false_alarm(
    client: FlaskClient, session: Session, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    ticket = make_ticket(tree.east_station, overall=4, comment="民警收了对方的红包，我要去北京上访")
    assert ticket.priority is TicketPriority.URGENT
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "预警核实" in page
    assert "复核" not in page  # integrity and escalation flags take one verdict
    refused = client.post(f"/triage/{ticket.id}/urgency-dismissal", data={"dismiss-note": " "})
    assert refused.status_code == 400
    assert "请说明为何判断为误报" in refused.get_data(as_text=True)
    done = client.post(f"/triage/{ticket.id}/urgency-dismissal", data={"dismiss-note": "邻里玩笑话，已电话核实"})
    assert done.status_code == 302
    session.expire_all()
    assert ticket.priority is TicketPriority.NORMAL
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "预警核实" not in page  # nothing urgent is left to verify
    assert "预警误报（廉洁问题举报；扬言上访/越级/自行解决），优先级 紧急 → 一般" in page
    assert "邻里玩笑话，已电话核实" in page


THREAT_COMMENT = "他再来闹我就弄死他"


@pytest.mark.parametrize("reviewer_role", [Role.HANDLER, Role.ADMIN])
def test_a_threat_is_a_false_alarm_only_once_a_second_person_confirms(
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_handler: User,
    reviewer_role: Role,
):
    ticket = make_ticket(tree.east_station, overall=4, comment=THREAT_COMMENT)
    deadline, reasons = ticket.deadline_at, list(ticket.reasons)
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "提出误报，待复核" in page
    proposed = client.post(f"/triage/{ticket.id}/urgency-dismissal", data={"dismiss-note": "邻里玩笑话"})
    assert proposed.status_code == 302
    session.expire_all()
    assert (ticket.priority, ticket.deadline_at, ticket.reasons) == (TicketPriority.URGENT, deadline, reasons)
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "待复核" in page
    assert f"{city_handler.display_name} 于" in page
    assert "理由：邻里玩笑话" in page
    assert "/urgency-dismissal/confirm" not in page  # the proposer only withdraws
    own = client.post(f"/triage/{ticket.id}/urgency-dismissal/confirm", data=_review(client, ticket, ""))
    assert own.status_code == 400
    assert "不能确认自己提出的误报" in own.get_data(as_text=True)
    assert _queue_row(client, ticket).count("待复核") == 1

    reviewer = make_user(reviewer_role, tree.city, display_name="王复核")
    auth.logout()
    auth.login(reviewer.username)
    assert "/urgency-dismissal/confirm" in client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    confirmed = client.post(f"/triage/{ticket.id}/urgency-dismissal/confirm", data=_review(client, ticket, ""))
    assert confirmed.status_code == 302
    session.expire_all()
    assert ticket.priority is TicketPriority.NORMAL
    history = _history(client, ticket)
    assert f"{city_handler.display_name}： 提出预警误报（扬言报复/威胁人身），待复核 — 邻里玩笑话" in history[-2]
    assert history[-1].endswith("王复核： 确认预警误报（扬言报复/威胁人身），优先级 紧急 → 一般")
    assert "待复核" not in _queue_row(client, ticket)
    actions = [(entry.action, entry.actor_id) for entry in audit_trail(session)]
    assert actions == [("urgency.propose_dismissal", city_handler.id), ("urgency.confirm_dismissal", reviewer.id)]


def _analysis_flags(client: FlaskClient, ticket: Ticket) -> list[tuple[str, str]]:
    """The urgent flags of the ticket page's 文本分析, as (class, text)."""
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    return re.findall(r'<dt>预警</dt><dd class="(\w+)">([^<]*)</dd>', page)


def test_a_confirmed_false_alarm_reads_as_dismissed_until_the_comment_changes(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_handler: User,
    now: dt.datetime,
):
    ticket = make_ticket(tree.east_station, overall=1, comment="我要弄死那个辅警，态度太差了")
    assert _analysis_flags(client, ticket) == [("urgent", "扬言报复/威胁人身：“弄死”")]
    proposal = dismiss_urgent_flags(session, ticket, make_user(Role.HANDLER, tree.city), now, "气话，已电话核实")
    confirm_urgency_dismissal(session, ticket, city_handler, now, proposal.id)
    assert _analysis_flags(client, ticket) == [("dismissed", "扬言报复/威胁人身：“弄死”（已核实为误报）")]

    response = ticket.response  # the citizen writes again: the verdict was about other words
    response.comment = "我要弄死那个辅警，态度太差了。我说到做到"
    analysis = store_analysis(session, response, get_default_analyzer().analyze(response.comment), now)
    open_ticket_if_needed(session, response, analysis, now)
    assert _analysis_flags(client, ticket) == [("urgent", "扬言报复/威胁人身：“弄死”")]


@pytest.mark.parametrize(("overall", "label"), [(1, "非常不满意"), (4, "满意")])
def test_a_rating_reads_as_the_answer_the_citizen_chose(
    client: FlaskClient,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    city_handler: User,
    overall: int,
    label: str,
):
    ticket = make_ticket(tree.east_station, overall=overall)
    after_number = re.findall(r"<td[^>]*>(.*?)</td>", _queue_row(client, ticket), flags=re.DOTALL)
    assert after_number[2] == label  # priority, unit, rating
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert f"总体评价：<strong>{label}</strong>" in page
    assert "星" not in page


@pytest.mark.parametrize(
    ("role", "sees_version"), [(Role.HANDLER, False), (Role.SUPERVISOR, False), (Role.ADMIN, True)]
)
def test_the_model_version_is_for_administrators_and_the_score_is_explained(
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    role: Role,
    sees_version: bool,
):
    ticket = make_ticket(tree.east_station)
    analysis = current_analysis(session, ticket.response)
    assert analysis is not None
    auth.login(make_user(role, tree.city).username)
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert (analysis.model_version in page) is sees_version
    assert f"负面，满意倾向 {analysis.sentiment_score:.2f}" in page
    assert "（0 最不满意，1 最满意）" in page


def _history(client: FlaskClient, ticket: Ticket) -> list[str]:
    """The lines of the ticket's history as a reader sees them (no tags, spaces collapsed)."""
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    events = page[page.index('<ol class="events">') : page.index("</ol>")]
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in events.split("<li>")[1:]]


def _review(client: FlaskClient, ticket: Ticket, note: str) -> dict[str, str]:
    """The review form as the ticket page fills it: the note and the proposal the page shows."""
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    proposal = re.search(r'name="review-proposal" type="hidden" value="(\d+)"', page) or re.search(
        r'type="hidden" name="review-proposal" value="(\d+)"', page
    )
    assert proposal is not None, "the review form names the proposal it shows"
    return {"review-note": note, "review-proposal": proposal.group(1)}


def _queue_row(client: FlaskClient, ticket: Ticket) -> str:
    page = client.get("/triage/").get_data(as_text=True)
    start = page.index(f">#{ticket.id}<")
    return page[start : page.index("</tr>", start)]


def test_a_rejected_proposal_keeps_the_ticket_urgent(
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_handler: User,
):
    ticket = make_ticket(tree.east_station, overall=4, comment="老公喝醉了就打我，民警来了也不管")
    client.post(f"/triage/{ticket.id}/urgency-dismissal", data={"dismiss-note": "群众说的是几年前的事"})
    auth.logout()
    auth.login(make_user(Role.HANDLER, tree.east, display_name="王复核").username)
    unnamed = client.post(f"/triage/{ticket.id}/urgency-dismissal/reject", data={"review-note": "家暴须回访核实"})
    assert unnamed.status_code == 400
    assert "缺少误报提议编号" in unnamed.get_data(as_text=True)
    unexplained = client.post(f"/triage/{ticket.id}/urgency-dismissal/reject", data=_review(client, ticket, " "))
    assert unexplained.status_code == 400
    assert "请说明驳回理由" in unexplained.get_data(as_text=True)
    rejected = client.post(
        f"/triage/{ticket.id}/urgency-dismissal/reject", data=_review(client, ticket, "家暴须回访核实")
    )
    assert rejected.status_code == 302
    session.expire_all()
    assert ticket.priority is TicketPriority.URGENT
    assert _history(client, ticket)[-1].endswith(
        "王复核： 驳回预警误报提议（暴力/人身伤害；家庭暴力），预警保留 — 家暴须回访核实"
    )
    assert "提出误报，待复核" in client.get(f"/triage/{ticket.id}").get_data(as_text=True)  # judged afresh
    assert "待复核" not in _queue_row(client, ticket)


def test_a_refused_review_keeps_what_was_typed_and_says_why_beside_it(
    client: FlaskClient, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    ticket = make_ticket(tree.east_station, overall=4, comment=THREAT_COMMENT)
    client.post(f"/triage/{ticket.id}/urgency-dismissal", data={"dismiss-note": "邻里玩笑话"})
    own = client.post(f"/triage/{ticket.id}/urgency-dismissal/confirm", data=_review(client, ticket, "电话里核实过了"))
    assert own.status_code == 400
    page = own.get_data(as_text=True)
    assert 'class="flash flash-error" role="status">不能确认自己提出的误报' in page  # not a field's: at the top
    assert "电话里核实过了</textarea>" in page  # what was typed is still there
    unexplained = client.post(f"/triage/{ticket.id}/urgency-dismissal/reject", data=_review(client, ticket, "  "))
    assert unexplained.status_code == 400
    page = unexplained.get_data(as_text=True)
    assert '<p class="field-error">请说明驳回理由</p>' in page  # the note's: beside the note
    assert 'class="flash flash-error" role="status">请说明驳回理由' not in page


def test_the_proposer_withdraws_their_proposal(
    client: FlaskClient, session: Session, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    ticket = make_ticket(tree.east_station, overall=4, comment=THREAT_COMMENT)
    client.post(f"/triage/{ticket.id}/urgency-dismissal", data={"dismiss-note": "邻里玩笑话"})
    withdrawn = client.post(
        f"/triage/{ticket.id}/urgency-dismissal/reject", data=_review(client, ticket, "再核实"), follow_redirects=True
    )
    assert "误报提议已撤回，预警保留" in withdrawn.get_data(as_text=True)
    assert "撤回预警误报提议（扬言报复/威胁人身），预警保留 — 再核实" in _history(client, ticket)[-1]
    session.expire_all()
    assert ticket.priority is TicketPriority.URGENT


def test_a_supervisor_sees_a_proposal_awaiting_review_but_cannot_review_it(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_supervisor: User,
    now: dt.datetime,
):
    ticket = make_ticket(tree.east_station, overall=4, comment=THREAT_COMMENT)
    dismiss_urgent_flags(session, ticket, make_user(Role.HANDLER, tree.city, display_name="李办理"), now, "玩笑话")
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "李办理 于" in page
    assert "理由：玩笑话" in page
    assert "/urgency-dismissal" not in page
    assert "待复核" in _queue_row(client, ticket)


@pytest.mark.parametrize("comment", ["民警态度恶劣，出警太慢了", "钱都被骗光了，我不想活了"])
def test_no_false_alarm_verdict_for_a_ticket_without_flags_or_with_self_harm(
    client: FlaskClient, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User, comment: str
):
    page = client.get(f"/triage/{make_ticket(tree.east_station, comment=comment).id}").get_data(as_text=True)
    assert "预警核实" not in page


def test_a_handler_sees_every_action(
    client: FlaskClient, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    page = client.get(f"/triage/{make_ticket(tree.east_station).id}").get_data(as_text=True)
    for action in ("/status", "/category", "/phone", 'value="callback"'):
        assert action in page


def test_a_status_change_starts_from_the_stored_status_not_the_one_the_page_showed(
    session: Session,
    session_factory: sessionmaker[Session],
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    now: dt.datetime,
):
    ticket = make_ticket(tree.east_station, comment="态度差")
    first, second = make_user(Role.HANDLER, tree.city), make_user(Role.HANDLER, tree.city)
    assert ticket.status is TicketStatus.NEW  # what both handlers' pages show
    with session_factory() as other:  # the first handler, a moment earlier
        mine = other.get_one(Ticket, ticket.id)
        change_ticket_status(other, mine, TicketStatus.IN_PROGRESS, other.get_one(User, first.id), now)
        other.commit()
    with pytest.raises(InvalidTransitionError):  # in_progress -> assigned is not a move
        change_ticket_status(session, ticket, TicketStatus.ASSIGNED, second, now)
    event = change_ticket_status(session, ticket, TicketStatus.ESCALATED, second, now)
    assert (event.from_status, event.to_status) == (TicketStatus.IN_PROGRESS, TicketStatus.ESCALATED)


def test_control_characters_in_a_note_are_dropped(
    session: Session, tree: Tree, make_ticket: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = make_ticket(tree.east_station, comment="态度差")
    handler = make_user(Role.HANDLER, tree.city)
    event = add_ticket_note(session, ticket, handler, now, "已电话\x00联系\r\n群众表示理解", "callback")
    session.flush()  # PostgreSQL refuses a NUL here
    assert event.note == "已电话联系\n群众表示理解"


def test_a_raised_priority_shows_in_the_tickets_history(
    client: FlaskClient,
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    city_handler: User,
    now: dt.datetime,
):
    ticket = make_ticket(tree.east_station, overall=2, comment="等得有点久")
    assert ticket.priority is TicketPriority.NORMAL
    response = ticket.response
    response.comment = "民警威胁我说要打死我"
    analysis = store_analysis(session, response, get_default_analyzer().analyze(response.comment), now)
    open_ticket_if_needed(session, response, analysis, now)
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "优先级 一般 → 紧急" in page


def test_ticket_pages_are_never_cached(
    client: FlaskClient, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    """The page shows a citizen's comment and, on request, the phone number."""
    ticket = make_ticket(tree.east_station)
    for response in (
        client.get("/triage/"),
        client.get(f"/triage/{ticket.id}"),
        client.post(f"/triage/{ticket.id}/phone"),
    ):
        assert response.headers["Cache-Control"] == "no-store"
    with client.get("/triage/export.xlsx") as export:
        assert export.headers["Cache-Control"] == "no-store"


def test_a_forgotten_number_is_shown_as_such_and_cannot_be_revealed(
    client: FlaskClient, session: Session, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    ticket = make_ticket(tree.east_station)
    ticket.response.survey.contact.phone_e164 = "purged-1"  # as surveys.retention leaves it
    session.commit()
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "（已按保留期限删除）" in page
    assert "查看完整号码" not in page
    refused = client.post(f"/triage/{ticket.id}/phone")
    assert refused.status_code == 409
    assert "已按保留期限删除" in refused.get_data(as_text=True)
    assert audit_trail(session) == []


def test_refused_ticket_actions_are_explained_in_chinese(
    client: FlaskClient, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    """A page left open while an administrator removed a category, or a colleague moved the ticket on."""
    ticket = make_ticket(tree.east_station)
    category = client.post(f"/triage/{ticket.id}/category", data={"category-category": "已删除的类别"})
    assert category.status_code == 400
    assert "不是有效的选择" in category.get_data(as_text=True)
    status = client.post(f"/triage/{ticket.id}/status", data={"status-status": "closed"})
    assert status.status_code == 400
    assert "不是有效的选择" in status.get_data(as_text=True)
    note = client.post(f"/triage/{ticket.id}/note", data={"note-kind": "note", "note-note": "长" * 2001})
    assert note.status_code == 400
    assert "内容不能超过 2000 字" in note.get_data(as_text=True)
    for response in (category, status, note):
        assert "Not a valid" not in response.get_data(as_text=True)


def _listed(client: FlaskClient, query: str = "") -> list[int]:
    """The ticket numbers the queue lists for ``query`` (a query string), in order."""
    response = client.get(f"/triage/{query}")
    assert response.status_code == 200
    return [int(n) for n in re.findall(r">#(\d+)</a></td>", response.get_data(as_text=True))]


@dataclasses.dataclass
class Queue:
    """Open tickets of the city that differ in one way each."""

    east_urgent: Ticket
    west_proposed: Ticket
    east_overdue: Ticket
    west_mine: Ticket


@pytest.fixture
def queue(
    session: Session,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
    city_handler: User,
    now: dt.datetime,
) -> Queue:
    east_urgent = make_ticket(tree.east_station, overall=1, comment="民警收了对方的红包，我要去北京上访")
    west_proposed = make_ticket(tree.west_station, overall=4, comment=THREAT_COMMENT)
    dismiss_urgent_flags(session, west_proposed, make_user(Role.HANDLER, tree.city), now, "邻里玩笑话")
    east_overdue = make_ticket(tree.east_station, overall=2, comment="等得有点久")
    east_overdue.deadline_at = now - dt.timedelta(minutes=5)
    west_mine = make_ticket(tree.west_station, overall=1)
    for status in (TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS):
        change_ticket_status(session, west_mine, status, city_handler, now)
    session.flush()
    assert [t.priority for t in (east_urgent, west_proposed, east_overdue, west_mine)] == [
        TicketPriority.URGENT,
        TicketPriority.URGENT,
        TicketPriority.NORMAL,
        TicketPriority.HIGH,
    ]
    return Queue(east_urgent, west_proposed, east_overdue, west_mine)


#: A query string of the queue's filters (its ``{names}`` filled in by :func:`_query`), and
#: the tickets of :class:`Queue` it keeps, in queue order.
FILTER_CASES = [
    ("?priority=urgent", ["east_urgent", "west_proposed"]),
    ("?priority=high", ["west_mine"]),
    ("?status=in_progress", ["west_mine"]),
    ("?unit={east}", ["east_urgent", "east_overdue"]),
    ("?unit={west_station}", ["west_proposed", "west_mine"]),
    ("?overdue=y", ["east_overdue"]),
    ("?mine=y", ["west_mine"]),
    ("?review=y", ["west_proposed"]),
    ("?q={west_mine}", ["west_mine"]),
    ("?q=%23{east_overdue}", ["east_overdue"]),
    ("?q={east_urgent_case}", ["east_urgent"]),
    ("?q=红包", ["east_urgent"]),
    ("?q=%E3%80%80等得+", ["east_overdue"]),  # words of a comment, a full-width space trimmed
    ("?priority=urgent&unit={east}", ["east_urgent"]),
]


def _query(template: str, tree: Tree, queue: Queue) -> str:
    return template.format(
        east=tree.east.id,
        west_station=tree.west_station.id,
        west_mine=queue.west_mine.id,
        east_overdue=queue.east_overdue.id,
        east_urgent_case=queue.east_urgent.response.survey.case.external_no,
    )


def _sheet_cells(data: bytes) -> list[object]:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells = [cell for row in workbook.active.iter_rows(values_only=True) for cell in row]
    workbook.close()
    return cells


def _exported(client: FlaskClient, query: str = "") -> list[int]:
    """The ticket numbers of the queue's spreadsheet for ``query``, in order."""
    with client.get(f"/triage/export.xlsx{query}") as response:
        assert response.status_code == 200
        workbook = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    rows = list(workbook.active.iter_rows(min_row=2, values_only=True))
    workbook.close()
    return [int(row[0]) for row in rows]


@pytest.mark.parametrize(("query", "expected"), FILTER_CASES)
def test_each_filter_narrows_the_queue(client: FlaskClient, tree: Tree, queue: Queue, query: str, expected: list[str]):
    assert _listed(client) == [
        t.id for t in (queue.east_urgent, queue.west_proposed, queue.west_mine, queue.east_overdue)
    ]
    assert _listed(client, _query(query, tree, queue)) == [getattr(queue, name).id for name in expected]


@pytest.mark.parametrize(("query", "expected"), FILTER_CASES)
def test_the_export_of_a_filtered_queue_has_what_it_lists(
    client: FlaskClient, tree: Tree, queue: Queue, query: str, expected: list[str]
):
    query = _query(query, tree, queue)
    page = client.get(f"/triage/{query}").get_data(as_text=True)
    link = re.search(r'<a class="button" href="([^"]+)">导出筛选结果</a>', page)
    assert link is not None
    assert _exported(client, link.group(1).replace("&amp;", "&").removeprefix("/triage/export.xlsx")) == [
        getattr(queue, name).id for name in expected
    ]
    assert len(_exported(client)) == 4  # 导出全部待办 still has every open ticket


def test_an_unfiltered_queue_offers_one_export(client: FlaskClient, queue: Queue):
    page = client.get("/triage/").get_data(as_text=True)
    assert "导出筛选结果" not in page
    assert re.search(r'<a class="button" href="/triage/export.xlsx">导出 Excel</a>', page)


def test_the_export_leaves_out_an_invalid_filter_as_the_queue_does(client: FlaskClient, queue: Queue):
    assert _exported(client, "?priority=critical&overdue=y") == [queue.east_overdue.id]


def test_the_review_filter_lists_the_tickets_marked_for_review(client: FlaskClient, queue: Queue):
    page = client.get("/triage/").get_data(as_text=True)
    marked = [int(n) for n in re.findall(r">#(\d+)<(?:(?!</tr>).)*待复核", page, flags=re.DOTALL)]
    assert marked == [queue.west_proposed.id]
    assert _listed(client, "?review=y") == marked


def test_a_unit_outside_the_scope_is_refused_not_shown(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
):
    east = make_ticket(tree.east_station)
    make_ticket(tree.west_station)
    auth.login(make_user(Role.HANDLER, tree.east).username)
    page = client.get(f"/triage/?unit={tree.west_station.id}")
    assert page.status_code == 200
    assert "没有这个单位，或它不在您的权限范围内" in page.get_data(as_text=True)
    assert _listed(client, f"?unit={tree.west_station.id}") == [east.id]  # the filter is left out, the scope stays
    options = re.findall(r'<option value="(\d+)"', page.get_data(as_text=True))
    assert options == [str(u.id) for u in (tree.east, tree.east_station)]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("?priority=critical", "没有这个优先级"),
        ("?status=closed", "只能选择未关闭的状态"),
        ("?unit=abc", "没有这个单位"),
        ("?unit=99999999999999999999", "没有这个单位"),
        ("?q=" + "长" * 65, "搜索内容不能超过 64 个字"),
        ("?q=%00", "搜索内容含有不可见的控制字符"),
        ("?q=电话是1", "按留言内容搜索时不能含数字"),
    ],
)
def test_an_invalid_filter_is_explained_and_left_out(client: FlaskClient, queue: Queue, query: str, error: str):
    response = client.get(f"/triage/{query}&overdue=y")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<p class="field-error">{error}' in page
    assert "Not a valid" not in page
    assert _listed(client, f"{query}&overdue=y") == [queue.east_overdue.id]  # the other filters still apply


@pytest.fixture
def five_pages_of_one(
    tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User, monkeypatch: pytest.MonkeyPatch
) -> list[Ticket]:
    """Pages of two tickets, five tickets of the east branch (same priority and deadline: in number order)."""
    monkeypatch.setattr("surveys.ticket_queue.QUEUE_PAGE_SIZE", 2)
    return [make_ticket(tree.east_station, comment=f"出警太慢了，等了{n}个小时") for n in range(5)]


@pytest.mark.parametrize(
    ("number", "shown"), [("abc", 1), ("-1", 1), ("0", 1), ("3", 3), ("4", 3), ("99999999999999999999", 3)]
)
def test_a_page_number_out_of_range_shows_the_nearest_page(
    client: FlaskClient, five_pages_of_one: list[Ticket], number: str, shown: int
):
    page = client.get(f"/triage/?page={number}").get_data(as_text=True)
    assert f"第 {shown}/3 页" in page
    expected = five_pages_of_one[(shown - 1) * 2 : shown * 2]
    assert _listed(client, f"?page={number}") == [t.id for t in expected]


def test_the_heading_counts_every_match_and_the_pages_keep_the_filters(
    client: FlaskClient, tree: Tree, make_ticket: Callable[..., Ticket], five_pages_of_one: list[Ticket]
):
    east = five_pages_of_one
    make_ticket(tree.west_station)
    first = client.get(f"/triage/?unit={tree.east.id}&overdue=&q=").get_data(as_text=True)
    assert re.search(
        r'<h1>待办工单 <span class="count">5</span></h1>\s*<span class="hint page-number">第 1/3 页', first
    )
    assert "上一页" not in first
    next_url = re.search(r'<a class="button" rel="next" href="([^"]+)">下一页</a>', first)
    assert next_url is not None
    assert next_url.group(1) == f"/triage/?page=2&amp;unit={tree.east.id}"
    second = client.get(next_url.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "第 2/3 页" in second
    assert f'rel="prev" href="/triage/?unit={tree.east.id}"' in second
    pages = [_listed(client, f"?unit={tree.east.id}&page={n}") for n in (1, 2, 3)]
    assert pages == [[east[0].id, east[1].id], [east[2].id, east[3].id], [east[4].id]]  # same priority and deadline


def test_the_search_field_is_described_by_its_hint(client: FlaskClient, queue: Queue):
    page = client.get("/triage/").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="q"[^>]*>', page)
    assert field is not None
    assert 'aria-describedby="q-hint"' in field.group(0)
    assert 'placeholder="工单编号、案件编号或留言字词"' in field.group(0)
    hint = "工单编号（前面带不带 # 均可）、案件编号（可只输开头），或市民留言中的字词（如：噪音）"
    assert f'<p class="hint" id="q-hint">{hint}</p>' in page


def test_filters_need_no_csrf_token(
    make_app: Callable[..., Flask], tree: Tree, make_ticket: Callable[..., Ticket], make_user: Callable[..., User]
):
    """A GET form: with CSRF protection on, as in production, the filters apply and no error shows."""
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page) or re.search(
        r'type="hidden" name="csrf_token" value="([^"]+)"', login_page
    )
    assert token is not None
    user = make_user(Role.HANDLER, tree.city)
    login = {"username": user.username, "password": TEST_PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=login).status_code == 302
    east, west = make_ticket(tree.east_station), make_ticket(tree.west_station)
    page = client.get(f"/triage/?unit={tree.west.id}").get_data(as_text=True)
    assert f">#{west.id}<" in page
    assert f">#{east.id}<" not in page
    assert "field-error" not in page
    assert '<details class="card filters">' in page  # folded: nothing to correct
