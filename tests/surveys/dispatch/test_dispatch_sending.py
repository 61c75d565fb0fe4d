"""Dispatch: claim → send → record, the policy re-checked at send time, errors and lost claims."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from surveys.dispatch import DispatchReport, claim_due_surveys, mark_lost_claims
from surveys.models import Case, DispatchPolicy, OptOut, PhoneSuppression, SmsSendStatus, Survey, Unit
from surveys.optouts import opt_out
from surveys.planning import plan_case
from surveys.policy import load_policy_book
from surveys.questions import matter_words
from surveys.send_rate import SendSchedule
from surveys.sending import CLAIM_LEASE, MAX_SEND_ATTEMPTS
from surveys.settings import Settings
from surveys.skip_reasons import SkipReason
from surveys.sms.base import FailureKind, OutgoingSms, SendResult, SmsOutcomeUnknownError, SmsSendError
from surveys.states import SurveyStatus
from tests.surveys.dispatch.conftest import FakeClock, ScriptedProvider, local, messages_of

NOW = local(2026, 11, 20, 14)
Dispatch = Callable[..., DispatchReport]


@pytest.fixture
def due(make_survey: Callable[..., Survey]) -> Callable[..., Survey]:
    """``due(**kwargs)``: a planned survey due five minutes ago."""

    def factory(**kwargs: object) -> Survey:
        kwargs.setdefault("due_at", NOW - dt.timedelta(minutes=5))
        kwargs.setdefault("expires_at", NOW + dt.timedelta(days=7))
        return make_survey(SurveyStatus.PLANNED, **kwargs)

    return factory


def test_a_due_survey_is_sent_once_and_recorded(
    session: Session, settings: Settings, dispatch: Dispatch, due: Callable[..., Survey]
):
    survey = due()
    report = dispatch(NOW)
    assert (report.claimed, report.sent) == (1, 1)
    assert survey.status is SurveyStatus.SENT
    assert survey.sending_at == NOW
    assert survey.sent_at == NOW
    assert survey.attempts == 1
    assert survey.expires_at == NOW + dt.timedelta(days=7)
    assert survey.remind_at == NOW + dt.timedelta(hours=24)
    assert survey.lease_expires_at is None
    assert survey.contact.last_surveyed_at == NOW
    [message] = messages_of(session, survey)
    assert message.send_status is SmsSendStatus.SENT
    assert message.provider == "console"
    assert message.body.startswith(f"【{settings.sms_signature}】")
    assert survey.case.unit.name in message.body
    assert matter_words(survey.case.category) in message.body
    assert f"http://minyi.test/s/{survey.token}" in message.body
    assert message.body.endswith("回TD退订")
    assert message.template_params["token"] == survey.token
    assert dispatch(NOW + dt.timedelta(minutes=1)).claimed == 0  # never again


def test_surveys_not_yet_due_wait(session: Session, dispatch: Dispatch, due: Callable[..., Survey]):
    survey = due(due_at=NOW + dt.timedelta(minutes=1))
    assert dispatch(NOW).claimed == 0
    assert dispatch(NOW + dt.timedelta(minutes=1)).sent == 1
    assert survey.status is SurveyStatus.SENT


def test_opt_out_between_planning_and_sending_stops_the_survey(
    session: Session, settings: Settings, dispatch: Dispatch, make_case: Callable[..., Case]
):
    [survey] = plan_case(session, make_case(closed_at=NOW - dt.timedelta(hours=3)), NOW, settings)
    assert survey.status is SurveyStatus.PLANNED
    assert opt_out(session, survey.contact.phone_e164, "web", NOW + dt.timedelta(minutes=1))
    report = dispatch(NOW + dt.timedelta(minutes=2))
    assert (survey.status, report.sent) == (SurveyStatus.OPTED_OUT, 0)
    assert messages_of(session, survey) == []


def test_an_opt_out_recorded_elsewhere_is_still_honoured_at_send_time(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey]
):
    survey = due()
    session.add(OptOut(phone_e164=survey.contact.phone_e164, source="import", created_at=NOW))
    session.flush()
    assert dispatch(NOW).opted_out == 1
    assert survey.status is SurveyStatus.OPTED_OUT
    assert survey.opted_out_at == NOW


def test_an_opt_out_while_the_sms_is_on_its_way_closes_the_survey_once_sent(
    session: Session, session_factory: sessionmaker[Session], dispatch: Dispatch, due: Callable[..., Survey]
):
    survey = due()

    class OptingOutMeanwhile(ScriptedProvider):
        """The citizen replies TD to an earlier message while this one is being sent."""

        def send(self, message: OutgoingSms) -> SendResult:
            with session_factory() as other:
                assert opt_out(other, message.to, "sms", NOW)
                other.commit()
            return super().send(message)

    report = dispatch(NOW, provider=OptingOutMeanwhile())
    assert report.sent == 1  # the SMS went out: it was already on its way
    assert (survey.status, survey.sent_at, survey.opted_out_at) == (SurveyStatus.OPTED_OUT, NOW, NOW)
    [message] = messages_of(session, survey)
    assert message.send_status is SmsSendStatus.SENT


def test_a_number_found_unreachable_meanwhile_is_skipped_with_the_reason(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey]
):
    survey = due()
    session.add(PhoneSuppression(phone_e164=survey.contact.phone_e164, provider="twilio", error_code="30006"))
    session.flush()
    assert dispatch(NOW).skipped == 1
    assert (survey.status, survey.skip_reason) == (SurveyStatus.SKIPPED, SkipReason.UNREACHABLE_NUMBER)


def test_a_late_tick_in_quiet_hours_postpones_to_the_morning(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey]
):
    survey = due(due_at=local(2026, 11, 20, 20, 55))
    report = dispatch(local(2026, 11, 20, 23, 10))
    assert (report.postponed, report.sent, survey.status) == (1, 0, SurveyStatus.PLANNED)
    assert survey.due_at == local(2026, 11, 21, 8)
    assert dispatch(local(2026, 11, 21, 2)).claimed == 0
    assert dispatch(local(2026, 11, 21, 8)).sent == 1


def test_the_units_own_quiet_hours_apply(
    session: Session,
    dispatch: Dispatch,
    due: Callable[..., Survey],
    make_case: Callable[..., Case],
    make_unit: Callable[..., Unit],
    make_policy: Callable[..., DispatchPolicy],
):
    unit = make_unit()
    make_policy(unit, quiet_hours_start=dt.time(12), quiet_hours_end=dt.time(14, 30))
    survey = due(case=make_case(unit=unit))
    other = due()
    report = dispatch(NOW)
    assert (report.sent, report.postponed) == (1, 1)
    assert survey.due_at == local(2026, 11, 20, 14, 30)
    assert other.status is SurveyStatus.SENT


def test_transient_errors_retry_with_capped_exponential_back_off_then_fail(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey], scripted: ScriptedProvider
):
    survey = due()
    scripted.script = [SmsSendError("20429", "Too Many Requests", FailureKind.TRANSIENT)] * MAX_SEND_ATTEMPTS
    moment, delays = NOW, []
    for _ in range(MAX_SEND_ATTEMPTS - 1):
        assert dispatch(moment, scripted).retried == 1
        session.refresh(survey)
        assert survey.status is SurveyStatus.PLANNED
        assert survey.last_error_code == "20429"
        delays.append(survey.due_at - moment)
        moment = survey.due_at
    assert delays == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert dispatch(moment, scripted).failed == 1
    assert (survey.status, survey.attempts, survey.failed_at) == (SurveyStatus.FAILED, MAX_SEND_ATTEMPTS, moment)
    assert [m.send_status for m in messages_of(session, survey)] == [SmsSendStatus.FAILED] * MAX_SEND_ATTEMPTS


def test_an_unreachable_number_fails_at_once_and_is_suppressed(
    session: Session,
    dispatch: Dispatch,
    due: Callable[..., Survey],
    make_case: Callable[..., Case],
    scripted: ScriptedProvider,
):
    survey = due()
    phone = survey.contact.phone_e164
    scripted.script = [SmsSendError("21211", "The 'To' number is not a valid phone number.", FailureKind.UNREACHABLE)]
    assert dispatch(NOW, scripted).failed == 1
    assert (survey.status, survey.attempts) == (SurveyStatus.FAILED, 1)
    assert (survey.last_error_code, survey.last_error_message) == (
        "21211",
        "The 'To' number is not a valid phone number.",
    )
    [message] = messages_of(session, survey)
    assert (message.send_status, message.error_code) == (SmsSendStatus.FAILED, "21211")
    suppression = session.scalars(select(PhoneSuppression).where(PhoneSuppression.phone_e164 == phone)).one()
    assert (suppression.provider, suppression.error_code) == ("scripted", "21211")
    later = due(case=make_case(phones=[phone]))
    assert dispatch(NOW, scripted).skipped == 1
    assert later.skip_reason == SkipReason.UNREACHABLE_NUMBER


def test_a_provider_code_longer_than_32_characters_is_recorded(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey], scripted: ScriptedProvider
):
    """Alibaba Cloud's codes run to 33 characters; PostgreSQL refused them in the 32-character column."""
    code = "isv.DOMESTIC_NUMBER_NOT_SUPPORTED"
    survey, other = due(), due()
    scripted.script = [SmsSendError(code, "国际/港澳台消息模板不支持发送境内号码", FailureKind.PERMANENT)]
    report = dispatch(NOW, scripted)
    assert (report.failed, report.sent) == (1, 1)
    failed = survey if survey.status is SurveyStatus.FAILED else other
    assert failed.last_error_code == code[:32]
    assert [m.error_code for m in messages_of(session, failed)] == [code[:32]]


def test_an_unsubscribed_number_fails_and_joins_the_opt_out_list(
    session: Session,
    dispatch: Dispatch,
    due: Callable[..., Survey],
    make_survey: Callable[..., Survey],
    make_case: Callable[..., Case],
    scripted: ScriptedProvider,
):
    survey = due()
    phone = survey.contact.phone_e164
    open_one = make_survey(SurveyStatus.DELIVERED, case=make_case(phones=[phone]))
    scripted.script = [SmsSendError("21610", "Attempt to send to unsubscribed recipient", FailureKind.UNSUBSCRIBED)]
    assert dispatch(NOW, scripted).failed == 1
    assert survey.status is SurveyStatus.FAILED
    assert open_one.status is SurveyStatus.OPTED_OUT
    assert session.scalars(select(OptOut.source).where(OptOut.phone_e164 == phone)).one() == "scripted"


def test_a_send_whose_answer_was_lost_is_unknown_and_never_resent(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey], scripted: ScriptedProvider
):
    survey = due()
    scripted.script = [SmsOutcomeUnknownError("ReadTimeout: no answer in 10 s")]
    assert dispatch(NOW, scripted).unknown == 1
    assert (survey.status, survey.unknown_at, survey.last_error_code) == (SurveyStatus.UNKNOWN, NOW, "no_response")
    assert dispatch(NOW + dt.timedelta(hours=1), scripted).claimed == 0
    assert len(scripted.sent) == 1


def test_an_unexpected_provider_failure_loses_one_survey_and_releases_the_rest(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey], scripted: ScriptedProvider
):
    """A fault outside the provider's contract (a bug, a 2xx reply that is not JSON) may have
    sent the message: that survey is unknown, and the untried rest waits for the next run."""
    first, second, third = due(), due(), due()
    scripted.script = [ValueError("Expecting value: line 1 column 1 (char 0)")]
    report = dispatch(NOW, scripted)
    assert (report.claimed, report.unknown, report.released, len(scripted.sent)) == (3, 1, 2, 1)
    [lost] = [s for s in (first, second, third) if s.status is SurveyStatus.UNKNOWN]
    assert lost.last_error_code == "provider_error"
    assert "ValueError" in (lost.last_error_message or "")
    rest = [s for s in (first, second, third) if s is not lost]
    assert [(s.status, s.attempts) for s in rest] == [(SurveyStatus.PLANNED, 0)] * 2
    assert dispatch(NOW + dt.timedelta(minutes=1), scripted).sent == 2
    assert len(scripted.sent) == 3  # the lost one is never resent


def test_a_batch_claimed_before_quiet_hours_stops_at_their_start(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey], fake_clock: FakeClock
):
    claimed_at = local(2026, 11, 20, 20, 59)
    surveys = [due(due_at=claimed_at - dt.timedelta(minutes=1)) for _ in range(3)]

    class SlowProvider(ScriptedProvider):
        def send(self, message):  # type: ignore[no-untyped-def]
            fake_clock.now += 40  # each send takes 40 s: the second ends after 21:00
            return super().send(message)

    provider = SlowProvider()
    report = dispatch(claimed_at, provider)
    assert (report.sent, report.released, len(provider.sent)) == (2, 1, 2)
    [held] = [s for s in surveys if s.status is SurveyStatus.PLANNED]
    assert (held.attempts, held.due_at) == (0, local(2026, 11, 21, 8))
    assert dispatch(local(2026, 11, 20, 23)).claimed == 0
    assert dispatch(local(2026, 11, 21, 8)).sent == 1


def test_a_claim_lost_in_a_crash_becomes_unknown_after_its_lease(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    dispatch: Dispatch,
    due: Callable[..., Survey],
):
    survey = due()
    with session_factory.begin() as claim_session:  # the process claims, commits, then dies
        book = load_policy_book(claim_session, settings)
        schedule = SendSchedule.open(claim_session, "console", None, NOW)
        claimed = claim_due_surveys(claim_session, NOW, settings, book, schedule, 10, DispatchReport())
    assert [c.survey_id for c in claimed] == [survey.id]
    assert dispatch(NOW + dt.timedelta(minutes=1)).claimed == 0  # nobody else sends it
    with session_factory.begin() as sweep:
        assert mark_lost_claims(sweep, NOW + CLAIM_LEASE) == 0  # the lease still runs
    with session_factory.begin() as sweep:
        assert mark_lost_claims(sweep, NOW + CLAIM_LEASE + dt.timedelta(seconds=1)) == 1
    session.expire_all()
    assert (survey.status, survey.last_error_code) == (SurveyStatus.UNKNOWN, "lease_expired")
    assert dispatch(NOW + dt.timedelta(hours=2)).claimed == 0
    assert messages_of(session, survey) == []


def test_a_batch_stops_starting_sends_when_its_lease_runs_low(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey], fake_clock: FakeClock
):
    first, second = due(), due()

    class SlowProvider(ScriptedProvider):
        def send(self, message):  # type: ignore[no-untyped-def]
            fake_clock.now += CLAIM_LEASE.total_seconds()  # a send that hangs for the whole lease
            return super().send(message)

    report = dispatch(NOW, SlowProvider())
    assert (report.sent, report.released) == (1, 1)
    sent, released = sorted([first, second], key=lambda s: s.status is not SurveyStatus.SENT)
    assert sent.status is SurveyStatus.SENT
    assert (released.status, released.attempts) == (SurveyStatus.PLANNED, 0)


def test_the_send_rate_spaces_messages_across_runs(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey], fake_clock: FakeClock
):
    for _ in range(5):
        due()
    assert dispatch(NOW, limit=3, rate_per_second=2.0).sent == 3
    assert fake_clock.sleeps == [0.5, 0.5]
    fake_clock.sleeps.clear()
    assert dispatch(NOW, limit=3, rate_per_second=2.0).sent == 2  # another process, the same cursor
    assert fake_clock.sleeps == [1.5, 0.5]


def test_a_claim_books_no_further_ahead_than_the_horizon(
    session: Session, dispatch: Dispatch, due: Callable[..., Survey]
):
    for _ in range(3):
        due()
    assert dispatch(NOW, limit=100, rate_per_second=1 / 30).claimed == 2  # 60 s at one per 30 s
    assert dispatch(NOW, limit=100, rate_per_second=1 / 30).claimed == 0  # the horizon is booked
    assert dispatch(NOW + dt.timedelta(seconds=30), limit=100, rate_per_second=1 / 30).claimed == 1
