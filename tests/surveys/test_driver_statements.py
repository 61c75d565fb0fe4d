"""A statement compiled once and run on the DBAPI cursor returns what Connection.execute does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from surveys.driver_statements import DriverStatement
from surveys.models import Case, Response, Survey
from surveys.states import SurveyStatus


def _statement():  # type: ignore[no-untyped-def]
    return (
        select(Survey.id, Survey.status, Survey.expires_at, Case.category, Response.dimension_ratings)
        .join(Case, Case.id == Survey.case_id)
        .outerjoin(Response, Response.survey_id == Survey.id)
        .where(Survey.token == bindparam("token"), Survey.status != SurveyStatus.EXPIRED)
    )


def test_rows_are_typed_as_connection_execute_types_them(session: Session, make_survey: Callable[..., Survey]):
    survey = make_survey(status=SurveyStatus.SENT, expires_at=dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC))
    connection = session.connection()
    compiled = DriverStatement.compile(_statement(), connection.dialect, ("token",))

    row = compiled.first(connection, {"token": survey.token})

    assert row == tuple(connection.execute(_statement(), {"token": survey.token}).one())
    assert row is not None
    assert row[1] is SurveyStatus.SENT  # the enum, not its string
    assert row[2] == dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)  # aware UTC, as UTCDateTime loads it
    assert compiled.first(connection, {"token": "no-such-token"}) is None


def test_constants_are_bound_once_and_parameters_on_every_run(session: Session):
    compiled = DriverStatement.compile(_statement(), session.connection().dialect, ("token",))
    assert list(compiled.constants.values()) == ["expired"]  # processed: the stored string
    assert "token" not in compiled.constants


def test_expanding_and_unknown_parameters_are_refused(session: Session):
    dialect = session.connection().dialect
    with pytest.raises(ValueError, match="expanding"):
        DriverStatement.compile(select(Survey.id).where(Survey.status.in_(["sent", "opened"])), dialect, ())
    with pytest.raises(ValueError, match="no parameters"):
        DriverStatement.compile(_statement(), dialect, ("token", "missing"))
