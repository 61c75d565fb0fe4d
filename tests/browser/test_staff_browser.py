"""Staff pages in headless Chromium at 360×640: they fit a phone, and a threat's 误报 takes two people.

The flow is clicked through as handlers would: one proposes the false alarm, signs out,
another signs in on the same phone and confirms it. Every page loaded must come from the
app itself and log no console error (a Content-Security-Policy violation is one).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from surveys.models import Role, Ticket, TicketPriority, UnitLevel
from tests.browser.conftest import SeededTicket
from tests.browser.live_server import LiveServer
from tests.browser.staff_pages import Traffic, assert_fits_the_screen, assert_tap_targets, log_in

pytestmark = pytest.mark.browser

THREAT_COMMENT = "他再来闹我就弄死他"
#: The buttons a handler works an urgent ticket with, on the page before any verdict.
TICKET_BUTTONS = ("退出", "查看完整号码", "提交", "提出误报，待复核", "添加记录", "更正类别")
#: What a dismissed flag is painted in (staff.css ``.dismissed``): the grey of hints.
DISMISSED_GREY = "rgb(90, 100, 112)"


@pytest.fixture
def phone(new_page: Callable[..., Any], live_server: LiveServer) -> tuple[Any, Traffic]:
    """A 360×640 page whose context's requests and console errors are recorded."""
    page = new_page()
    traffic = Traffic(urlsplit(live_server.url).hostname or "")
    traffic.listen(page.context)
    return page, traffic


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login$"))


def _open_ticket_from_queue(page: Any, ticket: SeededTicket) -> None:
    page.get_by_role("link", name=f"#{ticket.id}", exact=True).click()
    page.wait_for_url(re.compile(rf"/triage/{ticket.id}$"))


def _queue_row(page: Any, ticket: SeededTicket) -> Any:
    return page.locator("table.queue tbody tr").filter(has=page.get_by_role("link", name=f"#{ticket.id}", exact=True))


def test_queue_ticket_and_dashboard_fit_a_360px_phone(
    phone: tuple[Any, Traffic],
    live_server: LiveServer,
    seed_ticket: Callable[..., SeededTicket],
    seed_unit: Callable[..., int],
    seed_staff: Callable[..., str],
    screenshot,
):
    page, traffic = phone
    ticket = seed_ticket(comment=THREAT_COMMENT, overall=4, unit_name="绍兴市公安局越城区分局府山派出所")
    log_in(page, live_server, seed_staff(Role.HANDLER, ticket.unit_id))

    assert urlsplit(page.url).path == "/triage/"
    assert _queue_row(page, ticket).is_visible()
    assert_fits_the_screen(page)
    screenshot(page, "staff-01-queue")
    page.goto(f"{live_server.url}/triage/?priority=urgent")  # a filtered queue has two export buttons
    assert page.get_by_role("link", name="导出筛选结果").is_visible()
    assert_fits_the_screen(page)
    screenshot(page, "staff-01-queue-filtered")

    _open_ticket_from_queue(page, ticket)
    assert "扬言报复/威胁人身" in page.locator("dd.urgent").inner_text()
    assert_fits_the_screen(page)
    assert_tap_targets(page, TICKET_BUTTONS)
    screenshot(page, "staff-02-ticket")

    _log_out(page)
    city = seed_unit("绍兴市公安局")
    for name in ("越城区分局", "柯桥区分局", "诸暨市公安局城西派出所"):
        seed_unit(name, UnitLevel.BRANCH, parent_id=city)
    log_in(page, live_server, seed_staff(Role.SUPERVISOR, city))
    assert urlsplit(page.url).path == "/dashboard/"
    assert page.get_by_role("region", name="下级单位排名").get_by_role("row").count() == 4  # heading and 3 units
    assert_fits_the_screen(page)
    screenshot(page, "staff-03-dashboard")
    traffic.assert_clean()


def test_two_handlers_dismiss_a_threat_by_clicking(
    phone: tuple[Any, Traffic],
    live_server: LiveServer,
    seed_ticket: Callable[..., SeededTicket],
    seed_staff: Callable[..., str],
    screenshot,
):
    page, traffic = phone
    ticket = seed_ticket(comment=THREAT_COMMENT, overall=4)
    proposer = seed_staff(Role.HANDLER, ticket.unit_id, display_name="李办理")
    reviewer = seed_staff(Role.HANDLER, ticket.unit_id, display_name="王复核")

    log_in(page, live_server, proposer)
    _open_ticket_from_queue(page, ticket)
    page.get_by_label("误报理由").fill("邻里玩笑话，已电话核实")
    page.get_by_role("button", name="提出误报，待复核").click()
    page.get_by_role("heading", name="预警核实：待复核").wait_for()
    assert "已提出误报，待另一名办理人员或管理员复核确认" in page.get_by_role("status").inner_text()
    assert page.get_by_role("heading", level=1).locator(".badge.review").inner_text() == "待复核"
    assert "理由：邻里玩笑话，已电话核实" in page.locator("#dismissal-review").inner_text()
    assert page.get_by_role("button", name="确认误报").count() == 0  # the proposer only withdraws
    assert_fits_the_screen(page)
    screenshot(page, "staff-04-proposed")
    _log_out(page)

    log_in(page, live_server, reviewer)
    assert _queue_row(page, ticket).locator(".badge.review").inner_text() == "待复核"
    _open_ticket_from_queue(page, ticket)
    assert "李办理 于" in page.locator("#dismissal-review").inner_text()
    assert_fits_the_screen(page)
    assert_tap_targets(page, ("驳回，保留预警", "确认误报"))
    screenshot(page, "staff-05-review")
    page.get_by_role("button", name="确认误报").click()
    page.get_by_role("status").filter(has_text="已确认预警误报").wait_for()

    flag = page.locator("dd.dismissed")
    assert flag.inner_text() == "扬言报复/威胁人身：“弄死”（已核实为误报）"
    assert flag.evaluate("(el) => getComputedStyle(el).color") == DISMISSED_GREY
    assert page.locator("dd.urgent").count() == 0
    assert page.locator("h1 .badge.review").count() == 0
    last_event = page.locator("ol.events li").last.inner_text()
    assert last_event.endswith("王复核： 确认预警误报（扬言报复/威胁人身），优先级 紧急 → 一般")
    assert_fits_the_screen(page)
    screenshot(page, "staff-06-confirmed")
    with live_server.session_factory() as session:
        assert session.scalars(select(Ticket.priority).where(Ticket.id == ticket.id)).one() is TicketPriority.NORMAL

    page.get_by_role("link", name="投诉工单").click()
    page.wait_for_url(re.compile(r"/triage/$"))
    row = _queue_row(page, ticket)
    assert row.is_visible()  # still open, no longer urgent
    assert row.locator(".badge.review").count() == 0
    traffic.assert_clean()
