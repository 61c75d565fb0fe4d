"""SMS texts: Chinese, signed, recognisable, with link and opt-out; UCS-2 segments counted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from surveys.messages import (
    DEFAULT_REMINDER_TEMPLATE,
    DEFAULT_SURVEY_TEMPLATE,
    render,
    segment_count,
    survey_params,
    template_problems,
)
from surveys.models import Case, CaseCategory, SmsKind, Unit
from tests.surveys.dispatch.conftest import SHANGHAI, local


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)])
def test_ucs2_segments_are_70_single_and_67_per_part(length: int, segments: int):
    assert segment_count("测" * length) == segments


def test_characters_outside_the_bmp_take_two_units():
    assert segment_count("测" * 68 + "😀") == 1
    assert segment_count("测" * 69 + "😀") == 2


def test_the_invitation_names_the_matter_not_its_details(
    make_unit: Callable[..., Unit], make_case: Callable[..., Case]
):
    unit = make_unit(name="府山派出所")
    case = make_case(unit=unit, category=CaseCategory.MEDIATION, closed_at=local(2026, 11, 3, 23, 30))
    params = survey_params(case, "AbCdEfGhIjKl", "https://my.example.cn/", SHANGHAI)
    text = render(DEFAULT_SURVEY_TEMPLATE, "绍兴公安", params)
    assert text.startswith("【绍兴公安】您11月3日在府山派出所办理的治安纠纷调解已办结")  # the survey page's words
    assert "https://my.example.cn/s/AbCdEfGhIjKl " in text  # a space ends the link
    assert "5非常满意，1非常不满意" in text  # the scale, since replies are invited
    assert text.endswith("回TD退订")
    assert case.external_no not in text
    assert (case.officer_name or "") not in text
    assert params.template_params() == {
        "date": "11月3日",
        "unit": "府山派出所",
        "matter": "治安纠纷调解",
        "token": "AbCdEfGhIjKl",
    }


def test_local_dates_are_used(make_case: Callable[..., Case]):
    case = make_case(closed_at=dt.datetime(2026, 11, 3, 17, 0, tzinfo=dt.UTC))  # 01:00 on the 4th in Shanghai
    assert survey_params(case, "t", "http://x", SHANGHAI).date == "11月4日"


@pytest.mark.parametrize("template", [DEFAULT_SURVEY_TEMPLATE, DEFAULT_REMINDER_TEMPLATE])
def test_the_default_templates_are_valid(template: str):
    assert template_problems(template, SmsKind.SURVEY) == []


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("请评价 回TD退订", "{link}"),
        ("请评价{link}", "退订"),
        ("{unit}请评价{link}{officer} 回TD退订", "{officer}"),
        ("【公安】请评价{link} 回TD退订", "签名"),
        ("请评价{link 回TD退订", "花括号"),
    ],
)
def test_template_problems_are_reported_in_chinese(template: str, problem: str):
    problems = template_problems(template, SmsKind.SURVEY)
    assert any(problem in p for p in problems), problems
