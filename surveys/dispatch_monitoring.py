"""What administrators watch: surveys by state, why surveys were skipped, and the ones in trouble.

``unknown`` surveys are the price of at-most-once: the system could not tell whether the
citizen got the SMS and will not guess. They are listed here for a person to check in
the provider's console, with ``failed`` ones and the provider's code.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from surveys.models import Case, Survey, Unit
from surveys.states import SurveyStatus
from surveys.units import in_subtree

PROBLEM_STATES = (SurveyStatus.UNKNOWN, SurveyStatus.FAILED)


def _scope(root: Unit | None, since: dt.datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Survey.planned_at >= since]
    if root is not None:
        conditions.append(Survey.case_id.in_(select(Case.id).join(Unit).where(in_subtree(Unit.path, root))))
    return conditions


def status_counts(session: Session, root: Unit | None, since: dt.datetime) -> dict[SurveyStatus, int]:
    """How many surveys planned since ``since`` in ``root``'s subtree are in each state."""
    rows = session.execute(select(Survey.status, func.count()).where(*_scope(root, since)).group_by(Survey.status))
    return dict(rows.tuples().all())


def skip_reason_counts(session: Session, root: Unit | None, since: dt.datetime) -> dict[str, int]:
    """Why surveys planned since ``since`` were not sent, with counts."""
    stmt = (
        select(Survey.skip_reason, func.count())
        .where(Survey.skip_reason.is_not(None), *_scope(root, since))
        .group_by(Survey.skip_reason)
    )
    return {reason: count for reason, count in session.execute(stmt).tuples() if reason}


def problem_surveys(session: Session, root: Unit | None, since: dt.datetime, limit: int = 200) -> list[Survey]:
    """Unknown and failed surveys, newest first, with what the provider said."""
    stmt = (
        select(Survey)
        .where(Survey.status.in_(PROBLEM_STATES), *_scope(root, since))
        .order_by(Survey.planned_at.desc(), Survey.id.desc())
        .limit(limit)
        .options(selectinload(Survey.contact), selectinload(Survey.case).selectinload(Case.unit))
    )
    return list(session.scalars(stmt))
