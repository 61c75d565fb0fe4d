"""The handler queue: scope, order, actions and the audited phone reveal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from nlp import get_default_analyzer
from surveys.analysis import store_analysis
from surveys.errors import InvalidTransitionError
from surveys.models import AuditEntry, Role, Ticket, TicketEvent, TicketPriority, User
from surveys.states import TicketStatus
from surveys.triage import add_ticket_note, change_ticket_status, open_ticket_if_needed
from tests.factories import AuthActions
from tests.webapp.conftest import Tree


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
    assert "请填写处理情况" in refused.get_data(as_text=True)
    session.refresh(ticket)
    assert ticket.status is TicketStatus.IN_PROGRESS


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
    entry = session.scalars(select(AuditEntry)).one()
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
    assert session.scalars(select(AuditEntry)).all() == []


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


def test_a_handler_marks_urgent_flags_as_a_false_alarm(
    client: FlaskClient, session: Session, tree: Tree, make_ticket: Callable[..., Ticket], city_handler: User
):
    ticket = make_ticket(tree.east_station, overall=4, comment="他再来闹我就弄死他")
    assert ticket.priority is TicketPriority.URGENT
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "预警核实" in page
    refused = client.post(f"/triage/{ticket.id}/urgency-dismissal", data={"dismiss-note": " "})
    assert refused.status_code == 400
    assert "请说明为何判断为误报" in refused.get_data(as_text=True)
    done = client.post(f"/triage/{ticket.id}/urgency-dismissal", data={"dismiss-note": "邻里玩笑话，已电话核实"})
    assert done.status_code == 302
    session.expire_all()
    assert ticket.priority is TicketPriority.NORMAL
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert "预警核实" not in page  # nothing urgent is left to verify
    assert "预警误报（扬言报复/威胁人身），优先级 紧急 → 一般" in page
    assert "邻里玩笑话，已电话核实" in page


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
    assert session.scalars(select(AuditEntry)).all() == []


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
