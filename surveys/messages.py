"""The Chinese SMS texts citizens receive, and what they cost.

A text names the matter in words the citizen recognises (date, unit, kind of matter),
never the case details, and always says how to opt out. Templates are editable by an
administrator; they hold the body after the 【signature】, which every provider adds in
front (Alibaba Cloud from its registered sign name, the others from our rendering), so
one template text serves every provider.

Chinese SMS are UCS-2: 70 characters fit one segment, a longer text is split into parts
of 67, and each part is billed. The signature counts.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from surveys.models import Case, CaseCategory, SmsKind
from surveys.questions import matter_words
from surveys.text import CONTROL_CHARACTERS, LONE_SURROGATES

SINGLE_SEGMENT_CHARS = 70
MULTIPART_SEGMENT_CHARS = 67

#: A link is followed by a space: some phones' link detection swallows the next characters.
#: The scale is spelled out because Chinese hotlines often use "1 = satisfied"; in Minyi
#: 5 is 非常满意 and 1 is 非常不满意, and a reply the citizen meant the other way round
#: would open a complaint ticket.
_REPLY_SCALE = "或回复5至1（5非常满意，1非常不满意）"
DEFAULT_SURVEY_TEMPLATE = f"您{{date}}在{{unit}}办理的{{matter}}已办结，请点击评价：{{link}} {_REPLY_SCALE}。回TD退订"
DEFAULT_REMINDER_TEMPLATE = (
    f"提醒：您{{date}}在{{unit}}办理的{{matter}}尚未评价，请点击：{{link}} {_REPLY_SCALE}。回TD退订"
)
OPT_OUT_CONFIRMATION_TEMPLATE = "您已退订，今后不再收到本平台的回访短信。"

#: What a template may refer to, with the description an administrator sees.
PLACEHOLDERS = {
    "date": "结案日期，如 11月20日",
    "unit": "办理单位名称",
    "matter": "事项类别，如 110报警求助（与评价页的说法相同）",
    "link": "评价链接",
}
#: The longest values a placeholder takes, for the worst-case length of a template.
_LONGEST_DATE = "12月31日"


@dataclass(frozen=True)
class MessageParams:
    """The values a template is filled with."""

    date: str
    unit: str
    matter: str
    link: str
    token: str

    def template_params(self) -> dict[str, str]:
        """The parameters a provider-side template receives (Alibaba Cloud ``TemplateParam``).

        The token, not the whole link, is sent: registered templates keep the link's
        domain fixed, which the provider's review requires.
        """
        return {"date": self.date, "unit": self.unit, "matter": self.matter, "token": self.token}


def survey_link(base_url: str, token: str) -> str:
    """The public link for a survey token."""
    return f"{base_url.rstrip('/')}/s/{token}"


def survey_params(case: Case, token: str, base_url: str, tz: ZoneInfo) -> MessageParams:
    """The words that let a citizen recognise the matter, and the link to answer it."""
    closed_local = case.closed_at.astimezone(tz)
    return MessageParams(
        date=f"{closed_local.month}月{closed_local.day}日",
        unit=case.unit.name,
        matter=matter_words(case.category),
        link=survey_link(base_url, token),
        token=token,
    )


def render(template: str, signature: str, params: MessageParams | None = None) -> str:
    """The full text: 【signature】 followed by the filled template."""
    values = {name: getattr(params, name) for name in PLACEHOLDERS} if params else {}
    return f"【{signature}】{template.format_map(values)}"


def segment_count(text: str) -> int:
    """How many UCS-2 segments ``text`` costs (1 up to 70 characters, then 67 per part).

    Characters outside the Basic Multilingual Plane (emoji) take two UCS-2 units.
    """
    units = len(text.encode("utf-16-le")) // 2
    if units <= SINGLE_SEGMENT_CHARS:
        return 1
    return math.ceil(units / MULTIPART_SEGMENT_CHARS)


def worst_case_text(template: str, signature: str, unit_name: str, base_url: str) -> str:
    """``template`` filled with the longest values it can get for ``unit_name``."""
    token = "X" * 12  # planning.new_token() yields 12 characters
    longest_matter = max((matter_words(category) for category in CaseCategory), key=len)
    params = MessageParams(_LONGEST_DATE, unit_name, longest_matter, survey_link(base_url, token), token)
    return render(template, signature, params)


def template_problems(template: str, kind: SmsKind) -> list[str]:
    """What is wrong with an administrator's template (Chinese, for the form); empty if fine."""
    try:
        placeholders = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError:
        return ["模板中的花括号不成对：占位符应写成 {unit} 这样的形式"]
    fields = [name for name, _, _ in placeholders]
    known = "、".join(PLACEHOLDERS)
    problems = [f"未知的占位符 {{{name}}}（可用：{known}）" for name in fields if name not in PLACEHOLDERS]
    problems += [
        f"占位符 {_placeholder_text(name, spec, conversion)} 不能带格式或转换，请写成 {{{name}}}"
        for name, spec, conversion in placeholders
        if name in PLACEHOLDERS and (spec or conversion is not None)
    ]
    if kind in (SmsKind.SURVEY, SmsKind.REMINDER) and "link" not in fields:
        problems.append("模板必须包含评价链接 {link}")
    if "退订" not in template:
        problems.append("模板必须告诉群众如何退订，例如“回TD退订”")
    if "【" in template or "】" in template:
        problems.append("不要在模板里写签名【…】，系统会自动加上")
    if CONTROL_CHARACTERS.search(template) or LONE_SURROGATES.search(template):
        problems.append("模板中有不可见的控制字符，请删除后重新输入")
    return problems


def _placeholder_text(name: str, spec: str | None, conversion: str | None) -> str:
    """A placeholder as the administrator wrote it, e.g. ``{link:.20}`` or ``{link!r}``.

    A format spec or conversion changes the value the citizen receives (``{link:.20}``
    cuts the link, ``{link!r}`` quotes it), so a template may only name a placeholder.
    """
    return "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
