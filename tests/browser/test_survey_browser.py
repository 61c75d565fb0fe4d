"""The survey page in headless Chromium at 360×640: mouse, keyboard, no JavaScript, double clicks.

Every page is saved as a screenshot in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from surveys.models import CaseCategory, OptOut, Response, Survey
from surveys.states import SurveyStatus
from tests.browser.live_server import LiveServer

pytestmark = pytest.mark.browser

# Everything a citizen can read or tap, checked in the page itself: text at least 18px,
# WCAG AA contrast against the real background, tap targets at least 44px, nothing wider
# than the screen.
AUDIT_JS = """
() => {
  const problems = [];
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== 'hidden'
      && !el.closest('.sr-only');
  };
  for (const el of document.body.querySelectorAll('*')) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText || !visible(el)) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const label = el.tagName + ' "' + el.textContent.trim().slice(0, 12) + '"';
    if (size < 18) problems.push('font ' + size + 'px: ' + label);
    const fg = lum(parse(style.color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push('contrast ' + ratio.toFixed(2) + ': ' + label);
  }
  const targets = [...document.querySelectorAll('input:not([type=hidden]), textarea, button, a')]
    .map((el) => (el.tagName === 'INPUT' ? el.closest('label') || el : el))
    .filter(visible);
  for (const el of targets) {
    const r = el.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) {
      const size = Math.round(r.width) + 'x' + Math.round(r.height);
      problems.push('tap target ' + size + ': ' + el.textContent.trim().slice(0, 12));
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth) {
    problems.push('page is ' + document.documentElement.scrollWidth + 'px wide, screen ' + window.innerWidth);
  }
  return problems;
}
"""


def _response(live_server: LiveServer, token: str) -> Response | None:
    with live_server.session_factory() as session:
        return session.scalars(select(Response).join(Survey).where(Survey.token == token)).one_or_none()


def _response_count(live_server: LiveServer, token: str) -> int:
    with live_server.session_factory() as session:
        return session.scalar(select(func.count(Response.id)).join(Survey).where(Survey.token == token)) or 0


def _tab_until(page: Any, predicate_js: str, limit: int = 60) -> None:
    """Press Tab until ``predicate_js`` (about ``document.activeElement``) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return Boolean({predicate_js}); }}"):
            return
    raise AssertionError(f"never reached {predicate_js} with Tab")


def test_answer_with_the_mouse(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str], screenshot
):
    token = seed_survey()
    page = new_page()
    transferred: list[tuple[str, int]] = []
    page.on("response", lambda r: transferred.append((r.url, len(r.body()) + len(str(r.headers)))))
    page.goto(live_server.survey_url(token))
    page.wait_for_load_state("networkidle")

    assert page.get_by_role("heading", level=1).inner_text() == "请您评价这次服务"
    matter = page.locator(".matter").inner_text()
    assert "110报警求助" in matter
    assert "府山派出所" in matter
    assert "2026年11月19日" in matter
    assert page.evaluate(AUDIT_JS) == []
    screenshot(page, "01-survey")
    assert all(url.startswith(live_server.url) for url, _ in transferred), transferred
    assert sum(size for _, size in transferred) < 50 * 1024, transferred
    assert not page.context.cookies()
    with live_server.session_factory() as session:
        assert session.scalars(select(Survey.status).where(Survey.token == token)).one() is SurveyStatus.OPENED

    page.get_by_text("满意", exact=True).click()
    page.get_by_role("group", name="接警态度").get_by_role("radio", name="很好").click()
    page.get_by_role("group", name="出警速度").get_by_role("radio", name="一般").click()
    page.get_by_label("意见或建议（选填）").fill("民警來得很快，態度也好👍")
    assert page.locator("#comment-count").inner_text() == "已输入 12 / 500 字"  # 👍 is one character
    assert page.locator(".reasons").is_hidden()
    screenshot(page, "02-survey-filled")
    page.get_by_role("button", name="提交评价").click()

    assert page.get_by_role("heading", level=1).inner_text() == "感谢您的评价！"
    assert "民警來得很快，態度也好👍" in page.locator(".summary").inner_text()
    assert page.evaluate(AUDIT_JS) == []
    screenshot(page, "03-thanks")
    response = _response(live_server, token)
    assert response is not None
    assert (response.overall, response.comment) == (4, "民警來得很快，態度也好👍")
    assert response.dimension_ratings == {"call_attitude": 5, "dispatch_speed": 3}

    page.goto(live_server.survey_url(token))
    assert page.get_by_role("heading", level=1).inner_text() == "已评价"
    summary = page.locator(".summary").inner_text()
    assert "满意" in summary
    assert "接警态度" in summary
    assert page.evaluate(AUDIT_JS) == []
    screenshot(page, "04-answered")


def test_answer_with_the_keyboard_only(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str], screenshot
):
    token = seed_survey(category=CaseCategory.WINDOW, unit_name="柯桥出入境窗口")
    page = new_page()
    page.goto(live_server.survey_url(token))

    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.name, document.activeElement.value]")
    assert focused == ["overall", "5"]
    ring = page.evaluate("() => getComputedStyle(document.activeElement.closest('label')).outlineStyle")
    assert ring == "solid", "the focused choice shows a focus ring"
    for _ in range(3):  # 非常满意 → 满意 → 基本满意 → 不满意
        page.keyboard.press("ArrowDown")
    assert page.get_by_role("radio", name="不满意", exact=True).is_checked()
    assert page.locator(".reasons").is_visible()

    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.value") == "long_wait"
    page.keyboard.press("Space")
    _tab_until(page, "el.name === 'd_service_attitude'")
    page.keyboard.press("ArrowRight")  # 很好 → 好 … lands on the second choice
    page.keyboard.press("ArrowRight")
    _tab_until(page, "el.id === 'comment'")
    page.keyboard.type("排队两个小时")
    screenshot(page, "05-survey-keyboard")
    _tab_until(page, "el.type === 'submit'")
    page.keyboard.press("Enter")

    page.get_by_role("heading", name="感谢您的评价！").wait_for()
    assert "我们会认真核实" in page.locator("main").inner_text()
    response = _response(live_server, token)
    assert response is not None
    assert response.overall == 2
    assert response.reasons == ["long_wait"]
    assert response.dimension_ratings == {"service_attitude": 3}
    assert response.comment == "排队两个小时"
    assert response.question_set_version == "window_service.v1"


def test_controls_have_names_for_screen_readers(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str]
):
    page = new_page()
    page.goto(live_server.survey_url(seed_survey(category=CaseCategory.CRIMINAL)))
    for name in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert (
            page.get_by_role("group", name="总体满意度（必选）").get_by_role("radio", name=name, exact=True).count()
            == 1
        )
    for dimension in ("办案效率", "执法规范", "服务态度", "结果公正"):
        radios = page.get_by_role("group", name=dimension).get_by_role("radio")
        assert radios.count() == 5
        assert page.get_by_role("group", name=dimension).get_by_role("radio", name="很差").count() == 1
    assert page.get_by_role("textbox", name="意见或建议（选填）").count() == 1
    assert page.get_by_role("button", name="提交评价").count() == 1
    assert page.get_by_role("link", name="不想再收到回访短信？点此退订").count() == 1


def test_the_reasons_appear_for_a_dissatisfied_rating(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str], screenshot
):
    token = seed_survey()
    page = new_page()
    page.goto(live_server.survey_url(token))
    reasons = page.get_by_role("group", name="如不满意，请选择原因（可多选）")
    assert reasons.is_hidden()
    page.get_by_text("基本满意", exact=True).click()
    assert reasons.is_hidden()
    page.get_by_text("非常不满意", exact=True).click()
    assert reasons.is_visible()
    assert reasons.get_by_role("checkbox").count() == 6
    reasons.get_by_text("出警慢，等了很久").click()
    reasons.get_by_text("问题没有解决").click()
    page.get_by_label("意见或建议（选填）").fill("等了一个多小时，最后也没处理")
    assert page.evaluate(AUDIT_JS) == []
    screenshot(page, "06-survey-negative")
    page.get_by_text("不满意", exact=True).click()
    assert reasons.is_visible()
    page.get_by_role("button", name="提交评价").click()
    page.get_by_role("heading", name="感谢您的评价！").wait_for()
    screenshot(page, "07-thanks-negative")
    response = _response(live_server, token)
    assert response is not None
    assert (response.overall, response.reasons) == (2, ["slow_dispatch", "problem_unsolved"])


def test_a_double_click_submits_once(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str]
):
    token = seed_survey()
    page = new_page()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(live_server.survey_url(token))
    page.get_by_text("非常满意", exact=True).click()
    page.get_by_role("button", name="提交评价").dblclick()
    page.get_by_role("heading", name="感谢您的评价！").wait_for()
    assert len(posts) == 1
    assert _response_count(live_server, token) == 1


def test_a_submit_that_never_answers_gives_the_button_back(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str]
):
    """The citizen pressed stop, or the network dropped the POST: they can try again."""
    page = new_page()
    page.clock.install()
    page.goto(live_server.survey_url(seed_survey()))
    # Stands for a request that never completes: the page stays as it was after the tap.
    page.evaluate("document.querySelector('form.survey').addEventListener('submit', (e) => e.preventDefault())")
    page.get_by_text("非常满意", exact=True).click()
    button = page.get_by_role("button", name="提交评价")
    button.click()
    waiting = page.get_by_role("button", name="正在提交，请稍候…")
    assert waiting.is_disabled()
    page.clock.run_for(16_000)
    assert button.is_enabled()


def test_without_javascript_a_double_click_still_stores_one_answer(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str]
):
    token = seed_survey()
    page = new_page(js=False)
    page.goto(live_server.survey_url(token))
    page.get_by_text("非常满意", exact=True).click()
    page.get_by_role("button", name="提交评价").dblclick()
    page.wait_for_load_state("load")
    page.wait_for_function("() => /感谢您的评价|已评价/.test(document.body.innerText)", timeout=5000)
    assert _response_count(live_server, token) == 1


def test_the_counter_counts_characters_as_the_server_does(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str]
):
    """An emoji is one character: 300 of them fit under the 500 limit and are all kept."""
    page = new_page()
    page.goto(live_server.survey_url(seed_survey()))
    page.get_by_label("意见或建议（选填）").fill("👍" * 300)
    assert page.locator("#comment-count").inner_text() == "已输入 300 / 500 字"
    assert page.get_by_label("意见或建议（选填）").input_value() == "👍" * 300
    page.get_by_label("意见或建议（选填）").fill("好" * 501)
    assert page.locator("#comment-count").inner_text() == "已超出 1 字（最多 500 字）"
    page.get_by_label("意见或建议（选填）").fill("  " + "好" * 500 + "\n　")  # blanks the server strips
    assert page.locator("#comment-count").inner_text() == "已输入 500 / 500 字"


def test_the_page_works_without_javascript(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str], screenshot
):
    token = seed_survey(category=CaseCategory.TRAFFIC, unit_name="交警越城大队")
    page = new_page(js=False)
    page.goto(live_server.survey_url(token))
    assert page.locator("#comment-count").is_hidden()  # the live count needs the script
    assert "最多 500 字" in page.locator("#comment-hint").inner_text()

    page.get_by_role("button", name="提交评价").click()  # nothing chosen
    page.wait_for_load_state("load")
    assert page.get_by_role("alert").is_visible()
    assert "请选择总体满意度" in page.get_by_role("alert").inner_text()
    assert page.evaluate(AUDIT_JS) == []
    screenshot(page, "08-survey-error-no-js")
    assert _response_count(live_server, token) == 0

    page.get_by_text("非常不满意", exact=True).click()
    reasons = page.get_by_role("group", name="如不满意，请选择原因（可多选）")
    assert reasons.is_visible()  # shown by CSS, not by script
    reasons.get_by_text("处理结果不公正").click()
    page.get_by_role("group", name="结果公正").get_by_role("radio", name="很差").click()
    page.get_by_label("意见或建议（选填）").fill("责任认定不公平")
    page.get_by_role("button", name="提交评价").click()
    assert page.get_by_role("heading", level=1).inner_text() == "感谢您的评价！"
    response = _response(live_server, token)
    assert response is not None
    assert (response.overall, response.reasons, response.dimension_ratings) == (
        1,
        ["unfair_result"],
        {"fair_result": 1},
    )
    assert response.question_set_version == "case_handling.v1"


def test_back_forward_and_reload_after_answering_show_pages_not_browser_errors(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str], screenshot
):
    """A corrected answer leaves a POST in the history: Back must not land on ERR_CACHE_MISS."""
    token = seed_survey()
    page = new_page()
    page.goto(live_server.survey_url(token))
    page.get_by_role("button", name="提交评价").click()  # nothing chosen: the form again, from the POST
    page.get_by_role("alert").wait_for()
    page.get_by_text("满意", exact=True).click()
    page.get_by_role("button", name="提交评价").click()
    page.get_by_role("heading", name="感谢您的评价！").wait_for()
    assert page.url == f"{live_server.survey_url(token)}/thanks"

    page.reload()  # a GET: no offer to send the form again
    assert page.get_by_role("heading", level=1).inner_text() == "感谢您的评价！"
    page.go_back()
    assert not page.url.startswith("chrome-error:")
    assert page.get_by_role("heading", level=1).inner_text() == "请您评价这次服务"
    assert page.get_by_role("alert").is_visible()  # the page as the citizen last saw it
    screenshot(page, "16-back-after-answering")
    page.go_forward()
    assert page.get_by_role("heading", level=1).inner_text() == "感谢您的评价！"
    assert _response_count(live_server, token) == 1


def test_a_link_that_expires_while_the_page_is_open_gives_the_comment_back(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str], screenshot
):
    token = seed_survey(expires_in=dt.timedelta(minutes=10))
    page = new_page()
    page.goto(live_server.survey_url(token))
    with live_server.session_factory.begin() as session:  # the citizen took their time
        survey = session.scalars(select(Survey).where(Survey.token == token)).one()
        survey.expires_at = survey.expires_at - dt.timedelta(minutes=20)
    page.get_by_text("非常不满意", exact=True).click()
    page.get_by_label("意见或建议（选填）").fill("两个小时才来人，\n来了也不管")
    page.get_by_role("button", name="提交评价").click()
    page.get_by_role("heading", name="评价链接已过期").wait_for()
    assert page.locator("blockquote.unsent").inner_text() == "两个小时才来人，\n来了也不管"
    assert page.get_by_role("link", name="0575-85081110").is_visible()
    assert page.evaluate(AUDIT_JS) == []
    screenshot(page, "18-expired-while-open")
    assert _response_count(live_server, token) == 0


def test_the_page_fits_a_320px_screen(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str], screenshot
):
    page = new_page(width=320)
    page.goto(live_server.survey_url(seed_survey(category=CaseCategory.WINDOW, unit_name="诸暨市公安局户政窗口")))
    page.get_by_text("非常不满意", exact=True).click()
    page.get_by_role("group", name="办事便捷").get_by_role("radio", name="很差").click()
    assert page.evaluate(AUDIT_JS) == []
    screenshot(page, "09-survey-320px")


#: The rating pills and choices whose text is wider than their box (it runs into the next one).
OVERFLOW_JS = """() => [...document.querySelectorAll('.pill span, .choice')]
  .filter((el) => el.scrollWidth > el.clientWidth + 1)
  .map((el) => el.textContent.trim())"""


@pytest.mark.parametrize(
    ("width", "font_px"),
    [(320, 27), (320, 36), (160, 18)],  # text at 150 % and 200 %; the page zoomed to 200 %
    ids=["text-150", "text-200", "zoom-200"],
)
def test_larger_text_moves_the_ratings_to_more_rows_instead_of_overflowing(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    seed_survey: Callable[..., str],
    screenshot,
    width: int,
    font_px: int,
):
    """Elderly citizens turn the text size up: 很好 must not run into 好 (a QA pass saw 艮好)."""
    page = new_page(width=width)
    page.goto(live_server.survey_url(seed_survey()))
    page.evaluate(f"() => {{ document.body.style.fontSize = '{font_px}px'; }}")  # CSSOM: the CSP allows it
    assert page.evaluate(OVERFLOW_JS) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    screenshot(page, f"17-larger-text-{width}px-{font_px}px")


@pytest.mark.parametrize(
    ("name", "kwargs", "heading"),
    [
        ("10-expired", {"expires_in": -dt.timedelta(minutes=1)}, "评价链接已过期"),
        ("11-opted-out", {"status": SurveyStatus.OPTED_OUT}, "您已退订"),
        ("12-unavailable", {"status": SurveyStatus.FAILED}, "无法评价"),
    ],
)
def test_links_that_take_no_answer_explain_why(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    seed_survey: Callable[..., str],
    screenshot,
    name: str,
    kwargs: dict[str, Any],
    heading: str,
):
    page = new_page()
    response = page.goto(live_server.survey_url(seed_survey(**kwargs)))
    assert response is not None
    assert response.status == 410
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert page.get_by_role("link", name="0575-85081110").get_attribute("href") == "tel:057585081110"
    assert page.evaluate(AUDIT_JS) == []
    screenshot(page, name)


def test_an_unknown_link(new_page: Callable[..., Any], live_server: LiveServer, screenshot):
    page = new_page()
    response = page.goto(live_server.survey_url("AAAAAAAAAAAA"))
    assert response is not None
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "链接无效"
    assert page.evaluate(AUDIT_JS) == []
    screenshot(page, "13-unknown")


def test_opting_out_from_the_page(
    new_page: Callable[..., Any], live_server: LiveServer, seed_survey: Callable[..., str], screenshot
):
    token = seed_survey()
    page = new_page()
    page.goto(live_server.survey_url(token))
    page.get_by_role("link", name="不想再收到回访短信？点此退订").click()
    page.wait_for_url(re.compile(r"/optout$"))
    assert page.evaluate(AUDIT_JS) == []
    screenshot(page, "14-optout-confirm")
    page.get_by_role("button", name="确认退订").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", level=1).inner_text() == "您已退订"
    screenshot(page, "15-optout-done")
    with live_server.session_factory() as session:
        survey = session.scalars(select(Survey).where(Survey.token == token)).one()
        assert survey.status is SurveyStatus.OPTED_OUT
        assert (
            session.scalars(select(OptOut.source).where(OptOut.phone_e164 == survey.contact.phone_e164)).one() == "web"
        )
