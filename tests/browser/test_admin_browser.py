"""Administrators' pages in headless Chromium at 360×640: they fit a phone and can be tapped.

The README promises every staff page one column below 720 px and controls at least 44 px
tall on a phone. The admin forms broke that in ways only a real layout shows: the taxonomy
kept four table columns (two characters per field), the checkbox labels were 18 px of
text, the category list carried bullets and the overview's links were 18 px of text. So
each page is measured as Chromium draws it; the desktop check keeps the taxonomy a table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from surveys.models import Role, UnitLevel
from tests.browser.conftest import VIEWPORT
from tests.browser.live_server import LiveServer
from tests.browser.staff_pages import TAP_PX, Traffic, assert_fits_the_screen, assert_tap_targets, log_in

pytestmark = pytest.mark.browser

DESKTOP_WIDTH = 1280
#: Each checkbox on the page with the box of its label and whether something paints a
#: list bullet beside it (an ancestor shown as a list item with a marker).
CHECKBOXES_JS = """() => [...document.querySelectorAll('main input[type=checkbox]')].map((box) => {
  const label = box.labels[0];
  let bullet = null;
  for (let el = box; el && !bullet; el = el.parentElement) {
    const style = getComputedStyle(el);
    if (style.display === 'list-item' && style.listStyleType !== 'none') bullet = style.listStyleType;
  }
  const rect = label ? label.getBoundingClientRect() : null;
  return {
    name: label ? label.textContent.trim() : box.name,
    height: rect ? rect.height : 0,
    width: rect ? rect.width : 0,
    bullet: bullet,
  };
})"""


@dataclass(frozen=True)
class AdminPage:
    """A page signed in as the administrator of a city bureau (which owns the deployment's settings)."""

    page: Any
    traffic: Traffic
    station_id: int


@pytest.fixture
def admin_page(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    seed_unit: Callable[..., int],
    seed_staff: Callable[..., str],
) -> Callable[..., AdminPage]:
    """``admin_page(width=360)``: a fresh page signed in as a city administrator, traffic recorded."""

    def factory(width: int = VIEWPORT["width"]) -> AdminPage:
        city = seed_unit("绍兴市公安局")
        station = seed_unit("越城区分局府山派出所", UnitLevel.STATION, parent_id=city)
        page = new_page(width=width)
        traffic = Traffic(urlsplit(live_server.url).hostname or "")
        traffic.listen(page.context)
        log_in(page, live_server, seed_staff(Role.ADMIN, city))
        return AdminPage(page, traffic, station)

    return factory


def assert_checkboxes_are_tap_targets(page: Any) -> list[dict[str, Any]]:
    """Every checkbox has a label at least a fingertip tall and wide, and no bullet beside it."""
    checkboxes: list[dict[str, Any]] = page.evaluate(CHECKBOXES_JS)
    assert checkboxes, f"{page.url} shows no checkbox"
    small = [(c["name"], c["width"], c["height"]) for c in checkboxes if min(c["width"], c["height"]) < TAP_PX]
    bulleted = [(c["name"], c["bullet"]) for c in checkboxes if c["bullet"]]
    assert (small, bulleted) == ([], []), f"labels under {TAP_PX}px (name, width, height), and bullets"
    return checkboxes


def test_taxonomy_is_one_category_after_another_on_a_phone(
    admin_page: Callable[..., AdminPage], live_server: LiveServer, screenshot
):
    admin = admin_page()
    page = admin.page
    page.goto(f"{live_server.url}/admin/taxonomy")

    assert_fits_the_screen(page)
    line = page.locator("form.card").evaluate(
        "(form) => { const style = getComputedStyle(form);"
        " return form.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight); }"
    )
    for label in ("类别名称", "说明", "关键词（每行一个，或用顿号、逗号分隔）"):
        fields = page.get_by_label(label, exact=True)
        assert fields.count() >= 2
        for field in fields.all():
            box = field.bounding_box()
            assert box["width"] >= line, f"{label} is {box['width']}px wide, the line {line}px"
            assert box["height"] >= TAP_PX, f"{label} is {box['height']}px tall"
            label_box = page.locator(f'label[for="{field.get_attribute("id")}"]').bounding_box()
            assert label_box["height"] >= 10, f"the label {label} is not shown"
            assert label_box["y"] + label_box["height"] <= box["y"], f"the label {label} is not above its field"
    removable = assert_checkboxes_are_tap_targets(page)
    assert {c["name"] for c in removable} == {"删除此类别"}
    screenshot(page, "admin-01-taxonomy")
    admin.traffic.assert_clean()


@pytest.mark.parametrize("scope", ["deployment", "unit"])
def test_policy_categories_are_tap_targets_without_bullets(
    admin_page: Callable[..., AdminPage], live_server: LiveServer, screenshot, scope: str
):
    admin = admin_page()
    page = admin.page
    path = "/admin/dispatch/policy" if scope == "deployment" else f"/admin/dispatch/units/{admin.station_id}"
    page.goto(f"{live_server.url}{path}")

    assert_fits_the_screen(page)
    checkboxes = assert_checkboxes_are_tap_targets(page)
    assert {"单独设置不回访的案件类别", "110警情", "户政/出入境窗口办事"} <= {c["name"] for c in checkboxes}
    # A tap on the far corner of the label, away from the box itself, ticks the category.
    criminal = page.get_by_role("checkbox", name="刑事案件")
    label = page.locator("label").filter(has=criminal)
    box = label.bounding_box()
    label.tap(position={"x": box["width"] - 2, "y": box["height"] - 2})
    assert criminal.is_checked()
    screenshot(page, f"admin-02-policy-{scope}")
    admin.traffic.assert_clean()


def test_dispatch_overview_links_are_tap_targets(
    admin_page: Callable[..., AdminPage], live_server: LiveServer, screenshot
):
    admin = admin_page()
    page = admin.page
    page.goto(f"{live_server.url}/admin/dispatch")

    assert_fits_the_screen(page)
    assert_tap_targets(page, ("修改全局设置", "查看发送失败和结果不明的回访"), role="link")
    screenshot(page, "admin-03-dispatch")
    page.get_by_role("link", name="查看发送失败和结果不明的回访").click()
    page.get_by_role("heading", name="需要人工核实的回访").wait_for()
    assert_fits_the_screen(page)
    screenshot(page, "admin-04-problems")
    admin.traffic.assert_clean()


def test_taxonomy_stays_a_table_on_a_desktop(admin_page: Callable[..., AdminPage], live_server: LiveServer, screenshot):
    admin = admin_page(width=DESKTOP_WIDTH)
    page = admin.page
    page.goto(f"{live_server.url}/admin/taxonomy")

    assert page.get_by_role("columnheader", name="说明").is_visible()
    first_row = [page.locator(f"#categories-0-{name}").bounding_box() for name in ("name", "description", "seeds")]
    assert len({round(box["y"]) for box in first_row}) == 1, "the fields of a category are side by side"
    assert page.get_by_text("删除此类别").first.bounding_box()["width"] <= 1  # the column header says it
    screenshot(page, "admin-05-taxonomy-desktop")
    admin.traffic.assert_clean()


def test_the_audit_log_is_reached_from_the_menu_and_filtered_on_a_phone(
    admin_page: Callable[..., AdminPage], live_server: LiveServer, screenshot
):
    admin = admin_page()
    page = admin.page
    page.goto(f"{live_server.url}/admin/dispatch")
    page.get_by_role("navigation", name="栏目").get_by_role("link", name="审计日志").click()
    page.get_by_role("heading", name="审计日志").wait_for()
    log = page.get_by_role("region", name="审计记录")
    assert log.get_by_role("cell", name="登录", exact=True).count() >= 1  # this login, at least

    page.locator("summary", has_text="筛选").click()
    page.get_by_label("操作", exact=True).select_option(label="查看完整号码")
    assert_tap_targets(page, ("筛选",))
    page.get_by_role("button", name="筛选").click()
    page.get_by_text("没有符合筛选条件的记录。").wait_for()
    assert "action=phone.reveal" in page.url
    assert_fits_the_screen(page)
    screenshot(page, "admin-06-audit-log")
    admin.traffic.assert_clean()
