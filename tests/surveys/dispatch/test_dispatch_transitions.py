"""Every legal survey transition happens through a real service; every illegal one is refused."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from surveys.delivery_reports import apply_delivery_report
from surveys.dispatch import DispatchReport, mark_lost_claims
from surveys.errors import InvalidTransitionError
from surveys.expiry import expire_surveys
from surveys.models import PhoneSuppression, Survey
from surveys.optouts import opt_out
from surveys.reminders import queue_due_reminders
from surveys.replies import handle_inbound_sms
from surveys.settings import Settings
from surveys.sms.base import (
    DeliveryReport,
    DeliveryState,
    FailureKind,
    InboundSms,
    SmsOutcomeUnknownError,
    SmsSendError,
)
from surveys.states import SURVEY_TRANSITIONS, SurveyStatus
from surveys.transitions import bulk_transition, sources_for, transition
from tests.surveys.dispatch.conftest import ScriptedProvider
from tests.surveys.sms_rows import record_accepted_invitation

S = SurveyStatus
LEGAL = [(source, target) for source, targets in SURVEY_TRANSITIONS.items() for target in sorted(targets)]
ILLEGAL = [(s, t) for s, t in itertools.product(SurveyStatus, SurveyStatus) if t not in SURVEY_TRANSITIONS[s]]


@pytest.mark.parametrize(("source", "target"), LEGAL)
def test_a_legal_transition_moves_and_stamps(
    make_survey: Callable[..., Survey], now: dt.datetime, source: SurveyStatus, target: SurveyStatus
):
    survey = make_survey(source)
    transition(survey, target, now)
    assert survey.status is target
    if target is not S.PLANNED:
        assert getattr(survey, f"{target.value}_at") == now


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_an_illegal_transition_is_refused(
    make_survey: Callable[..., Survey], now: dt.datetime, source: SurveyStatus, target: SurveyStatus
):
    survey = make_survey(source)
    with pytest.raises(InvalidTransitionError):
        transition(survey, target, now)
    assert survey.status is source


@pytest.mark.parametrize("final", [S.ANSWERED, S.EXPIRED, S.FAILED, S.OPTED_OUT, S.SKIPPED, S.UNKNOWN])
def test_sweeps_leave_final_states_alone(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime, final: SurveyStatus
):
    survey = make_survey(final, expires_at=now - dt.timedelta(days=1), lease_expires_at=now - dt.timedelta(days=1))
    for target in SurveyStatus:
        assert bulk_transition(session, target, now, [Survey.id == survey.id]) == []
    assert expire_surveys(session, now) == mark_lost_claims(session, now) == 0
    opt_out(session, survey.contact.phone_e164, "sms", now)
    session.expire_all()
    assert survey.status is final


# --- each legal edge through the service that makes it ------------------------------

Scenario = Callable[[Survey], None]


@pytest.fixture
def scenarios(
    session: Session,
    settings: Settings,
    client: FlaskClient,
    dispatch: Callable[..., DispatchReport],
    now: dt.datetime,
) -> dict[tuple[SurveyStatus, SurveyStatus] | SurveyStatus, Scenario]:
    """The service call that makes each edge, keyed by (source, target) or by the target alone."""

    def delivery_report(state: DeliveryState) -> Scenario:
        def run(survey: Survey) -> None:
            sid = f"SM{survey.id:032d}"
            record_accepted_invitation(session, survey, "twilio", sid)
            apply_delivery_report(session, DeliveryReport("twilio", sid, state, state.value, "30003"), now)

        return run

    def dispatch_answering(*script: object) -> Scenario:
        return lambda survey: dispatch(now, ScriptedProvider(script=list(script)))

    def claim_before_sending(survey: Survey) -> None:
        seen: list[SurveyStatus] = []

        class Spy(ScriptedProvider):
            def send(self, message):  # type: ignore[no-untyped-def]
                session.expire_all()
                seen.append(session.get_one(Survey, survey.id).status)
                return super().send(message)

        dispatch(now, Spy())
        assert seen == [S.SENDING]  # claimed and committed before the provider was called
        survey.status = S.SENDING  # what the provider saw is the edge under test

    def remind(survey: Survey) -> None:
        survey.remind_at = now
        queue_due_reminders(session, now, settings)

    def reply(survey: Survey) -> None:
        inbound = InboundSms("twilio", f"SMin{survey.id}", survey.contact.phone_e164, "5")
        handle_inbound_sms(session, inbound, now, settings)

    def suppress_then_dispatch(survey: Survey) -> None:
        session.add(PhoneSuppression(phone_e164=survey.contact.phone_e164, provider="twilio", error_code="21614"))
        session.flush()
        dispatch(now)

    def lease_runs_out(survey: Survey) -> None:
        survey.lease_expires_at = now - dt.timedelta(seconds=1)
        mark_lost_claims(session, now)

    return {
        (S.PLANNED, S.SENDING): claim_before_sending,
        (S.PLANNED, S.SKIPPED): suppress_then_dispatch,
        (S.SENDING, S.SENT): dispatch_answering(),
        (S.SENDING, S.FAILED): dispatch_answering(SmsSendError("21211", "invalid", FailureKind.UNREACHABLE)),
        (S.SENDING, S.UNKNOWN): dispatch_answering(SmsOutcomeUnknownError("ReadTimeout")),
        (S.SENDING, S.PLANNED): dispatch_answering(SmsSendError("20503", "unavailable", FailureKind.TRANSIENT)),
        (S.SENT, S.FAILED): delivery_report(DeliveryState.FAILED),
        S.DELIVERED: delivery_report(DeliveryState.DELIVERED),
        S.OPENED: lambda survey: client.get(f"/s/{survey.token}"),  # the citizen opens the link
        S.REMINDED: remind,
        S.ANSWERED: reply,
        S.EXPIRED: lambda survey: expire_surveys(session, now + dt.timedelta(days=30)),
        S.OPTED_OUT: lambda survey: opt_out(session, survey.contact.phone_e164, "sms", now),
        S.UNKNOWN: lease_runs_out,
    }


@pytest.mark.parametrize(("source", "target"), LEGAL)
def test_every_legal_transition_is_made_by_a_service(
    session: Session,
    make_survey: Callable[..., Survey],
    scenarios: dict[tuple[SurveyStatus, SurveyStatus] | SurveyStatus, Scenario],
    now: dt.datetime,
    source: SurveyStatus,
    target: SurveyStatus,
):
    # A survey "in sending" is a planned one that a dispatch run claims on the way.
    survey = make_survey(
        S.PLANNED if source is S.SENDING else source,
        due_at=now - dt.timedelta(minutes=1),
        expires_at=now + dt.timedelta(days=7),
    )
    scenario = scenarios.get((source, target)) or scenarios[target]
    scenario(survey)
    if (source, target) != (S.PLANNED, S.SENDING):
        session.expire_all()
        assert session.get_one(Survey, survey.id).status is target


def test_the_sending_state_is_only_reachable_from_planned():
    assert sources_for(S.SENDING) == {S.PLANNED}
    assert sources_for(S.UNKNOWN) == {S.SENDING}
