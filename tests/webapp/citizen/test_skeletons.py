"""The clean survey page filled from its skeleton is the page Jinja renders, byte for byte."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from surveys.models import Case, CaseCategory, Survey
from surveys.questions import question_set_for
from surveys.tokens import find_survey_link
from webapp.citizen.forms import SurveyForm
from webapp.citizen.skeletons import MARK, Skeleton, slot
from webapp.citizen.views import _question_context, _render

#: A unit name with every character autoescaping changes, and some it leaves alone.
AWKWARD_NAME = """府山<派出所> & "东'街" 🚓"""


def test_a_skeleton_fills_every_occurrence_of_a_slot_escaped():
    skeleton = Skeleton.cut(f"<a href='/s/{slot('token')}'>{slot('unit')}</a><i>{slot('token')}</i>")

    assert skeleton.slots == {"token", "unit"}
    page = skeleton.fill({"token": "AbC-12_x", "unit": AWKWARD_NAME})
    assert page == ("<a href='/s/AbC-12_x'>府山&lt;派出所&gt; &amp; &#34;东&#39;街&#34; 🚓</a><i>AbC-12_x</i>")
    assert skeleton.fill({"token": 2026, "unit": ""}) == "<a href='/s/2026'></a><i>2026</i>"


def test_a_stray_marker_and_a_missing_value_are_refused():
    with pytest.raises(ValueError, match="stray marker"):
        Skeleton.cut(f"<p>{slot('unit')}{MARK}</p>")
    with pytest.raises(KeyError):
        Skeleton.cut(f"<p>{slot('unit')}</p>").fill({"kind": "x"})


@pytest.mark.parametrize("category", list(CaseCategory))
def test_the_first_visit_page_is_what_the_template_renders(
    app: Flask,
    client: FlaskClient,
    session: Session,
    make_survey: Callable[..., Survey],
    make_case: Callable[..., Case],
    make_unit,
    category: CaseCategory,
):
    """Under two script roots in one app: the skeleton is kept per root, as its URLs are."""
    unit = make_unit(name=AWKWARD_NAME)
    closed_at = dt.datetime(2026, 11, 19, 17, 30, tzinfo=dt.UTC)  # the 20th in Shanghai
    for script_root in ("", "/minyi", ""):
        survey = make_survey(case=make_case(unit=unit, category=category, closed_at=closed_at))
        base_url = f"http://localhost{script_root}/"

        served = client.get(f"/s/{survey.token}", base_url=base_url)

        assert served.status_code == 200
        link = find_survey_link(session, survey.token)
        assert link is not None
        with app.test_request_context(f"/s/{survey.token}", base_url=base_url):
            qset = question_set_for(category)
            rendered = _render("survey.html", link, **_question_context(qset, SurveyForm(), {}))
        assert served.get_data(as_text=True) == rendered
        assert f'action="{script_root}/s/{survey.token}"' in rendered
        assert f'href="{script_root}/s/{survey.token}/optout"' in rendered
        assert "府山&lt;派出所&gt; &amp; &#34;东&#39;街&#34; 🚓" in rendered
        assert "2026年11月20日" in rendered
        assert MARK not in rendered
