"""Moving surveys between states, always through the table in :mod:`surveys.states`.

Each state a survey reaches has its timestamp (``sent_at``, ``failed_at`` …), set here
with the state so the two never disagree. Single surveys go through
:func:`transition`, which raises on an illegal move; sweeps over many rows go through
:func:`bulk_transition`, whose ``WHERE`` admits only the legal source states, so a row
that moved on in the meantime (answered, opted out, claimed by another process) is left
alone rather than overwritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from surveys.models import Survey
from surveys.states import SURVEY_TRANSITIONS, SurveyStatus, check_survey_transition


def sources_for(target: SurveyStatus) -> frozenset[SurveyStatus]:
    """The states from which ``target`` may be reached."""
    return frozenset(source for source, targets in SURVEY_TRANSITIONS.items() if target in targets)


def _stamp(target: SurveyStatus, now: dt.datetime) -> dict[str, dt.datetime]:
    # ``planned_at`` keeps the first planning; a retry re-plans without rewriting history.
    return {} if target is SurveyStatus.PLANNED else {f"{target.value}_at": now}


def transition(survey: Survey, target: SurveyStatus, now: dt.datetime) -> None:
    """Move one survey to ``target`` and stamp the time; raises InvalidTransitionError."""
    check_survey_transition(survey.status, target)
    survey.status = target
    for name, value in _stamp(target, now).items():
        setattr(survey, name, value)


def bulk_transition(
    session: Session,
    target: SurveyStatus,
    now: dt.datetime,
    where: Iterable[ColumnElement[bool]],
    *,
    from_states: Iterable[SurveyStatus] | None = None,
    values: Mapping[str, Any] | None = None,
) -> list[int]:
    """Move every survey matching ``where`` (and in a legal source state) to ``target``.

    ``from_states`` narrows the sources further; ``values`` sets other columns in the
    same UPDATE. Returns the ids that actually moved.
    """
    sources = sources_for(target)
    if from_states is not None:
        sources &= frozenset(from_states)
    if not sources:
        return []
    stmt = (
        update(Survey)
        .where(Survey.status.in_(sources), *where)
        .values(status=target, **_stamp(target, now), **(values or {}))
        .returning(Survey.id)
    )
    return list(session.scalars(stmt))
