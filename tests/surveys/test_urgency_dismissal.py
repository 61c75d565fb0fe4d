"""A handler's verdict that a ticket's urgent flags are false alarms (预警误报), and its second person."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from nlp import UrgencyFlag, get_default_analyzer
from surveys.accounts import create_user
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.errors import ValidationError
from surveys.models import AuditEntry, Channel, Response, Role, Survey, Ticket, TicketEvent, TicketPriority, User
from surveys.states import SurveyStatus
from surveys.training_data import urgency_rows
from surveys.triage import DEADLINES, URGENCY_DISMISSED, open_ticket_if_needed
from surveys.urgency_dismissal import (
    DISMISSED_REASON,
    URGENCY_DISMISSAL_PROPOSED,
    URGENCY_DISMISSAL_REJECTED,
    confirm_urgency_dismissal,
    dismiss_urgent_flags,
    pending_dismissal_proposal,
    pending_dismissal_proposals,
    reject_urgency_dismissal,
)
from tests.committed import committed_survey

PRAISE = "事后想给民警包个红包，他们坚决不收"
FALSE_ALARM = UrgencyFlag(kind="integrity", label="廉洁问题举报（模型）", evidence="包个红包")
THREAT = UrgencyFlag(kind="threat", label="扬言报复/威胁人身", evidence="弄死")
VIOLENCE = UrgencyFlag(kind="violence", label="暴力/人身伤害", evidence="打我")
DOMESTIC_VIOLENCE = UrgencyFlag(kind="domestic_violence", label="家庭暴力", evidence="家暴")
SELF_HARM = UrgencyFlag(kind="self_harm", label="自伤自杀风险", evidence="不想活")
ESCALATION = UrgencyFlag(kind="escalation", label="扬言上访/越级/自行解决", evidence="上访")


@pytest.fixture
def flagged(session: Session, make_survey: Callable[..., Survey], now: dt.datetime) -> Callable[..., Ticket]:
    """``flagged(overall, *flags)``: the urgent ticket of an answer whose analysis raised ``flags``."""

    def factory(overall: int = 4, *flags: UrgencyFlag) -> Ticket:
        response = submit_answer(session, make_survey(), AnswerInput(overall=overall, comment=PRAISE), Channel.WEB, now)
        result = dataclasses.replace(get_default_analyzer().analyze(PRAISE), urgency_flags=flags or (FALSE_ALARM,))
        ticket = open_ticket_if_needed(session, response, store_analysis(session, response, result, now), now)
        assert ticket is not None
        assert ticket.priority is TicketPriority.URGENT
        return ticket

    return factory


def _reanalyse(session: Session, ticket: Ticket, now: dt.datetime, *flags: UrgencyFlag) -> None:
    """A later analysis of the same answer (a rescore) raising ``flags``."""
    result = dataclasses.replace(get_default_analyzer().analyze(PRAISE), urgency_flags=flags, model_version="newer")
    open_ticket_if_needed(session, ticket.response, store_analysis(session, ticket.response, result, now), now)


def test_dismissing_takes_the_ticket_out_of_the_urgent_lane(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4)
    handler = make_user()
    event = dismiss_urgent_flags(session, ticket, handler, now, "  群众是在表扬民警拒收红包  ")
    assert ticket.priority is TicketPriority.NORMAL  # a 4-star answer: nothing else calls for more
    assert ticket.deadline_at == ticket.response.submitted_at + DEADLINES[TicketPriority.NORMAL]
    assert not any(reason.startswith("预警") and reason != DISMISSED_REASON for reason in ticket.reasons)
    assert DISMISSED_REASON in ticket.reasons
    assert (event.kind, event.actor, event.note) == (URGENCY_DISMISSED, handler, "群众是在表扬民警拒收红包")
    assert event.data["kinds"] == ["integrity"]
    assert (event.data["from"], event.data["to"]) == ("urgent", "normal")
    assert list(urgency_rows(session)) == [(PRAISE, "0")]
    assert _audited(session) == [("urgency.dismiss", handler.id, ticket.id)]


def _audited(session: Session) -> list[tuple[str, int | None, int | None]]:
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(entry.action, entry.actor_id, entry.target_id) for entry in entries]


@pytest.mark.parametrize("flag", [ESCALATION, FALSE_ALARM])
def test_integrity_and_escalation_flags_are_dismissed_in_one_step(
    session: Session,
    flagged: Callable[..., Ticket],
    make_user: Callable[..., User],
    now: dt.datetime,
    flag: UrgencyFlag,
):
    ticket = flagged(4, flag)
    assert dismiss_urgent_flags(session, ticket, make_user(), now, "误报").kind == URGENCY_DISMISSED
    assert ticket.priority is TicketPriority.NORMAL


def test_a_low_rating_keeps_its_own_priority(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(1)
    dismiss_urgent_flags(session, ticket, make_user(), now, "误报")
    assert ticket.priority is TicketPriority.HIGH
    assert "非常不满意" in ticket.reasons


def test_a_rescore_raises_the_ticket_only_for_a_kind_not_dismissed(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4)
    dismiss_urgent_flags(session, ticket, make_user(), now, "误报")
    _reanalyse(session, ticket, now + dt.timedelta(hours=1), FALSE_ALARM)
    assert ticket.priority is TicketPriority.NORMAL
    _reanalyse(session, ticket, now + dt.timedelta(hours=2), FALSE_ALARM, THREAT)
    assert ticket.priority is TicketPriority.URGENT
    raised = session.scalars(select(TicketEvent).where(TicketEvent.ticket == ticket, TicketEvent.kind == "priority"))
    assert [event.data["to"] for event in raised] == ["urgent"]


@pytest.mark.parametrize("note", ["", "   "])
def test_the_reason_is_required(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime, note: str
):
    ticket = flagged(4)
    with pytest.raises(ValidationError) as refused:
        dismiss_urgent_flags(session, ticket, make_user(), now, note)
    assert refused.value.field == "note"
    assert ticket.priority is TicketPriority.URGENT


def test_a_ticket_without_urgent_flags_cannot_be_dismissed(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4)
    handler = make_user()
    dismiss_urgent_flags(session, ticket, handler, now, "误报")
    with pytest.raises(ValidationError) as refused:  # once is enough
        dismiss_urgent_flags(session, ticket, handler, now, "又一次")
    assert refused.value.field == "urgency"
    assert list(urgency_rows(session)) == [(PRAISE, "0")]


def test_a_follow_up_comment_is_judged_afresh(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4)
    dismiss_urgent_flags(session, ticket, make_user(), now, "表扬，误报")
    ticket.response.comment = PRAISE + "。后来另一个民警收了我两千块"  # the SMS follow-up (surveys.replies)
    _reanalyse(session, ticket, now + dt.timedelta(hours=1), FALSE_ALARM)
    assert ticket.priority is TicketPriority.URGENT


def test_a_self_harm_flag_is_never_dismissed(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    self_harm = UrgencyFlag(kind="self_harm", label="自伤自杀风险", evidence="不想活")
    ticket = flagged(5, FALSE_ALARM, self_harm)
    with pytest.raises(ValidationError) as refused:
        dismiss_urgent_flags(session, ticket, make_user(), now, "群众说的是以前的事")
    assert "回访核实" in refused.value.reason
    assert ticket.priority is TicketPriority.URGENT
    assert list(urgency_rows(session)) == []


@pytest.mark.parametrize(
    "flags",
    [(THREAT,), (VIOLENCE,), (DOMESTIC_VIOLENCE,), (FALSE_ALARM, THREAT)],
    ids=["threat", "violence", "domestic violence", "integrity and threat"],
)
def test_one_handler_only_proposes_to_dismiss_a_threat_or_violence(
    session: Session,
    flagged: Callable[..., Ticket],
    make_user: Callable[..., User],
    now: dt.datetime,
    flags: tuple[UrgencyFlag, ...],
):
    ticket = flagged(4, *flags)
    before = (ticket.priority, ticket.deadline_at, list(ticket.reasons))
    handler = make_user()
    proposal = dismiss_urgent_flags(session, ticket, handler, now + dt.timedelta(hours=1), "  邻里玩笑话  ")
    assert (proposal.kind, proposal.actor, proposal.note) == (URGENCY_DISMISSAL_PROPOSED, handler, "邻里玩笑话")
    assert proposal.data["kinds"] == sorted(flag.kind for flag in flags)
    assert (ticket.priority, ticket.deadline_at, ticket.reasons) == before
    assert pending_dismissal_proposal(session, ticket) is proposal
    assert list(urgency_rows(session)) == []  # not a label until confirmed
    assert _audited(session) == [("urgency.propose_dismissal", handler.id, ticket.id)]


def test_a_second_person_confirms_and_the_dismissal_takes_effect(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4, THREAT)
    proposer, reviewer = make_user(), make_user()
    proposal = dismiss_urgent_flags(session, ticket, proposer, now, "邻里玩笑话")
    event = confirm_urgency_dismissal(
        session, ticket, reviewer, now + dt.timedelta(hours=1), proposal.id, " 已电话核实 "
    )
    assert (event.kind, event.actor, event.note) == (URGENCY_DISMISSED, reviewer, "已电话核实")
    assert (event.data["kinds"], event.data["proposal_id"]) == (["threat"], proposal.id)
    assert ticket.priority is TicketPriority.NORMAL
    assert ticket.deadline_at == ticket.response.submitted_at + DEADLINES[TicketPriority.NORMAL]
    assert DISMISSED_REASON in ticket.reasons
    assert pending_dismissal_proposal(session, ticket) is None
    assert list(urgency_rows(session)) == [(PRAISE, "0")]
    assert _audited(session) == [
        ("urgency.propose_dismissal", proposer.id, ticket.id),
        ("urgency.confirm_dismissal", reviewer.id, ticket.id),
    ]


def test_the_proposer_cannot_confirm_their_own_proposal(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4, VIOLENCE)
    proposer = make_user()
    proposal = dismiss_urgent_flags(session, ticket, proposer, now, "误报")
    with pytest.raises(ValidationError) as refused:
        confirm_urgency_dismissal(session, ticket, proposer, now, proposal.id)
    assert "不能确认自己提出的误报" in refused.value.reason
    assert ticket.priority is TicketPriority.URGENT
    assert pending_dismissal_proposal(session, ticket) is proposal


def test_a_rejected_proposal_leaves_the_flags_standing(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4, THREAT)
    proposer, reviewer = make_user(), make_user()
    proposal = dismiss_urgent_flags(session, ticket, proposer, now, "误报")
    with pytest.raises(ValidationError) as unexplained:
        reject_urgency_dismissal(session, ticket, reviewer, now, proposal.id, "  ")
    assert unexplained.value.reason == "请说明驳回理由"
    event = reject_urgency_dismissal(session, ticket, reviewer, now, proposal.id, "录音里确有威胁，需回访")
    assert (event.kind, event.actor, event.note) == (URGENCY_DISMISSAL_REJECTED, reviewer, "录音里确有威胁，需回访")
    assert (event.data["proposal_id"], event.data["withdrawn"]) == (proposal.id, False)
    assert ticket.priority is TicketPriority.URGENT
    assert pending_dismissal_proposal(session, ticket) is None
    with pytest.raises(ValidationError, match="没有待复核的误报提议"):
        confirm_urgency_dismissal(session, ticket, make_user(), now, proposal.id)
    assert dismiss_urgent_flags(session, ticket, reviewer, now, "再核实后仍是误报").kind == URGENCY_DISMISSAL_PROPOSED
    assert [action for action, _, _ in _audited(session)] == [
        "urgency.propose_dismissal",
        "urgency.reject_dismissal",
        "urgency.propose_dismissal",
    ]


def test_a_review_is_of_the_proposal_the_reviewer_read(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    """Withdrawn and proposed again between the page and the click: the old page's review is refused."""
    ticket = flagged(4, THREAT)
    first_proposer, second_proposer, reviewer = make_user(), make_user(), make_user()
    read = dismiss_urgent_flags(session, ticket, first_proposer, now, "误报")
    reject_urgency_dismissal(session, ticket, first_proposer, now, read.id, "再想想")
    current = dismiss_urgent_flags(session, ticket, second_proposer, now, "另一个理由")
    for review in (confirm_urgency_dismissal, reject_urgency_dismissal):
        with pytest.raises(ValidationError, match="页面上的误报提议已被撤回或更换"):
            review(session, ticket, reviewer, now, read.id, "同意")
    assert ticket.priority is TicketPriority.URGENT
    assert pending_dismissal_proposal(session, ticket) is current


def test_the_proposer_may_withdraw_and_no_one_proposes_twice(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4, THREAT)
    proposer = make_user()
    proposal = dismiss_urgent_flags(session, ticket, proposer, now, "误报")
    with pytest.raises(ValidationError, match="已有待复核的误报提议"):
        dismiss_urgent_flags(session, ticket, make_user(), now, "也是误报")
    assert reject_urgency_dismissal(session, ticket, proposer, now, proposal.id, "再想想").data["withdrawn"] is True
    assert ticket.priority is TicketPriority.URGENT


def test_a_rescore_of_the_same_words_and_flags_keeps_the_proposal(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4, FALSE_ALARM, THREAT)
    proposal = dismiss_urgent_flags(session, ticket, make_user(), now, "误报")
    _reanalyse(session, ticket, now + dt.timedelta(hours=1), THREAT)
    assert pending_dismissal_proposal(session, ticket) is proposal
    confirm_urgency_dismissal(session, ticket, make_user(), now + dt.timedelta(hours=2), proposal.id)
    assert ticket.priority is TicketPriority.NORMAL


@pytest.mark.parametrize(
    ("follow_up", "flags"),
    [
        pytest.param("。后来他又打了我一顿", (THREAT,), id="a follow-up comment"),
        pytest.param("", (THREAT, VIOLENCE), id="a flag the proposal did not cover"),
    ],
)
def test_a_proposal_lapses_when_what_it_judged_has_changed(
    session: Session,
    flagged: Callable[..., Ticket],
    make_user: Callable[..., User],
    now: dt.datetime,
    follow_up: str,
    flags: tuple[UrgencyFlag, ...],
):
    ticket = flagged(4, THREAT)
    proposal = dismiss_urgent_flags(session, ticket, make_user(), now, "误报")
    ticket.response.comment = PRAISE + follow_up  # an SMS follow-up (surveys.replies) adds to the comment
    _reanalyse(session, ticket, now + dt.timedelta(hours=1), *flags)
    assert pending_dismissal_proposal(session, ticket) is None
    with pytest.raises(ValidationError, match="没有待复核的误报提议"):
        confirm_urgency_dismissal(session, ticket, make_user(), now + dt.timedelta(hours=2), proposal.id)
    assert ticket.priority is TicketPriority.URGENT
    assert dismiss_urgent_flags(session, ticket, make_user(), now, "新的也是误报").kind == URGENCY_DISMISSAL_PROPOSED


def test_the_queue_learns_which_tickets_await_a_second_person(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    waiting, confirmed, untouched, one_step = flagged(4, THREAT), flagged(4, THREAT), flagged(4, THREAT), flagged(4)
    proposal = dismiss_urgent_flags(session, waiting, make_user(), now, "误报")
    proposed = dismiss_urgent_flags(session, confirmed, make_user(), now, "误报")
    confirm_urgency_dismissal(session, confirmed, make_user(), now, proposed.id)
    dismiss_urgent_flags(session, one_step, make_user(), now, "误报")
    tickets = [waiting, confirmed, untouched, one_step]
    assert pending_dismissal_proposals(session, tickets) == {waiting.id: proposal}
    assert pending_dismissal_proposals(session, []) == {}


def test_a_confirmation_waits_for_a_reanalysis_in_progress(racing_factory: sessionmaker[Session], now: dt.datetime):
    """A rescore holding the answer finds self-harm: the confirmation then judges that, and refuses.

    Without the wait it would dismiss the old flags while the new one was being stored,
    leaving a self-harm flag outside the urgent lane.
    """
    survey = committed_survey(racing_factory, SurveyStatus.DELIVERED)
    with racing_factory.begin() as session:
        answer = AnswerInput(overall=4, comment=PRAISE)
        response = submit_answer(session, session.get_one(Survey, survey.id), answer, Channel.WEB, now)
        result = dataclasses.replace(get_default_analyzer().analyze(PRAISE), urgency_flags=(THREAT,))
        ticket = open_ticket_if_needed(session, response, store_analysis(session, response, result, now), now)
        assert ticket is not None
        unit = response.survey.case.unit
        proposer = create_user(session, f"p{secrets.token_hex(4)}", "password123", Role.HANDLER, unit)
        reviewer = create_user(session, f"r{secrets.token_hex(4)}", "password123", Role.HANDLER, unit)
        session.flush()
        proposal = dismiss_urgent_flags(session, ticket, proposer, now, "玩笑话")
        ids = (ticket.id, reviewer.id, proposal.id)

    def confirm() -> str:
        with racing_factory.begin() as session:
            ticket_id, reviewer_id, proposal_id = ids
            ticket, reviewer = session.get_one(Ticket, ticket_id), session.get_one(User, reviewer_id)
            try:
                return confirm_urgency_dismissal(session, ticket, reviewer, now, proposal_id).kind
            except ValidationError as refused:
                return refused.reason

    with racing_factory() as rescore, ThreadPoolExecutor(max_workers=1) as pool:
        held = rescore.scalars(select(Response).where(Response.id == response.id).with_for_update(of=Response)).one()
        newer = dataclasses.replace(result, urgency_flags=(THREAT, SELF_HARM), model_version="newer")
        open_ticket_if_needed(rescore, held, store_analysis(rescore, held, newer, now), now)
        rescore.flush()
        verdict = pool.submit(confirm)
        time.sleep(0.5)
        waited = not verdict.done()  # still waiting for the rescore's lock on the answer
        rescore.commit()
        assert waited
        assert verdict.result(timeout=10).startswith("自伤自杀风险预警不能标记为误报")
    with racing_factory() as session:
        assert session.get_one(Ticket, ids[0]).priority is TicketPriority.URGENT
