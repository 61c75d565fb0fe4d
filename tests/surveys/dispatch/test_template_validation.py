"""Administrators' templates: a placeholder is only a name, never a format that alters the text."""

from __future__ import annotations

import pytest

from surveys.messages import template_problems
from surveys.models import SmsKind


@pytest.mark.parametrize(
    ("template", "written"),
    [
        ("请点击评价：{link:.20} 回TD退订", "{link:.20}"),
        ("请点击评价：{link!r} 回TD退订", "{link!r}"),
        ("请点击评价：{link!s:>40} 回TD退订", "{link!s:>40}"),
        ("请点击评价：{link:{unit}} 回TD退订", "{link:{unit}}"),
        ("您在{unit:.2}办理的事项已办结：{link} 回TD退订", "{unit:.2}"),
    ],
)
def test_a_placeholder_with_a_format_spec_or_conversion_is_refused(template: str, written: str):
    problems = template_problems(template, SmsKind.SURVEY)
    assert any(written in problem and "不能带格式或转换" in problem for problem in problems), problems


def test_plain_placeholders_are_accepted():
    template = "您{date}在{unit}办理的{matter}已办结，请点击评价：{link} 回TD退订"
    assert template_problems(template, SmsKind.SURVEY) == []


@pytest.mark.parametrize("invisible", ["\x00", "\x1b", "\x7f", "\ud800"])
def test_a_template_with_control_characters_is_refused(invisible: str):
    """A NUL would reach the citizen's phone, and PostgreSQL refuses to store it (a 500)."""
    template = f"您{{date}}在{{unit}}办理的{{matter}}已办结，请点击评价：{{link}} 回TD退订{invisible}"
    assert "模板中有不可见的控制字符，请删除后重新输入" in template_problems(template, SmsKind.SURVEY)
