"""Fixtures for the dispatch tests: policy rows, local clocks, a scriptable provider, a fake clock."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from surveys.dispatch import DispatchReport, dispatch_due_surveys
from surveys.dispatch_settings import DispatchSettings
from surveys.jobs import JobContext
from surveys.models import DispatchPolicy, SmsMessage, Survey, Unit
from surveys.settings import Settings
from surveys.sms.base import OutgoingSms, SendResult
from surveys.sms.console import ConsoleSmsProvider

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An aware UTC time given as Asia/Shanghai wall-clock time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


@dataclass
class ScriptedProvider:
    """A provider whose answers a test scripts: a SendResult, or an exception to raise."""

    name: str = "scripted"
    script: list[Any] = field(default_factory=list)
    sent: list[OutgoingSms] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, message: OutgoingSms) -> SendResult:
        self.sent.append(message)
        outcome = self.script.pop(0) if self.script else None
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome or SendResult(f"SM{next(self._ids):032d}", "queued")


@dataclass
class FakeClock:
    """Monotonic time that only moves when slept (or when a test moves it)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def make_policy(session: Session) -> Callable[..., DispatchPolicy]:
    """``make_policy(unit=None, **overrides)``: an override row (None: the deployment's)."""

    def factory(unit: Unit | None = None, **values: Any) -> DispatchPolicy:
        row = DispatchPolicy(unit_id=unit.id if unit else None, **values)
        session.add(row)
        session.flush()
        return row

    return factory


@pytest.fixture
def console() -> ConsoleSmsProvider:
    return ConsoleSmsProvider()


@pytest.fixture
def scripted() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def dispatch(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    console: ConsoleSmsProvider,
    fake_clock: FakeClock,
) -> Callable[..., DispatchReport]:
    """``dispatch(now, provider=console, **kwargs)``: one run; the test's session then reloads."""

    def run(now: dt.datetime, provider: Any = None, **kwargs: Any) -> DispatchReport:
        kwargs.setdefault("clock", fake_clock)
        report = dispatch_due_surveys(session_factory, provider or console, settings, now, **kwargs)
        session.expire_all()
        return report

    return run


@pytest.fixture
def job_context(session_factory: sessionmaker[Session], settings: Settings, console: ConsoleSmsProvider) -> JobContext:
    return JobContext(
        session_factory=session_factory, provider=console, settings=settings, dispatch_settings=DispatchSettings()
    )


def messages_of(session: Session, survey: Survey) -> list[SmsMessage]:
    """The SMS rows of ``survey``, oldest first."""
    return list(session.scalars(select(SmsMessage).where(SmsMessage.survey_id == survey.id).order_by(SmsMessage.id)))
