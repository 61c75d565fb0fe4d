"""What the staff pages' browser tests share: watching a page's traffic, signing in, fitting the phone."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import VIEWPORT
from tests.browser.live_server import LiveServer
from tests.factories import TEST_PASSWORD

#: A fingertip, as the README promises for every control on a phone.
TAP_PX = 44


@dataclass
class Traffic:
    """What the pages of one browser context asked for and complained about."""

    host: str
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def listen(self, context: Any) -> None:
        context.on("request", self._request)
        context.on("console", self._console)
        context.on("weberror", lambda e: self.errors.append(f"uncaught: {e.error}"))

    def _request(self, request: Any) -> None:
        if urlsplit(request.url).hostname != self.host:
            self.foreign.append(request.url)

    def _console(self, message: Any) -> None:
        # Any error counts, a 404 for /favicon.ico included: the layouts name an inline icon.
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def assert_clean(self) -> None:
        assert self.foreign == [], "requests to other hosts"
        assert self.errors == [], "console errors"


def log_in(page: Any, live_server: LiveServer, username: str) -> None:
    """Sign in through the login form as ``username`` (password ``TEST_PASSWORD``)."""
    page.goto(f"{live_server.url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")


def assert_fits_the_screen(page: Any) -> None:
    """Nothing is wider than the phone: the page never scrolls sideways."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"{page.url} is {width}px wide on a {VIEWPORT['width']}px screen"


def assert_tap_targets(page: Any, names: tuple[str, ...], role: str = "button") -> None:
    """The named buttons (or links, or …) are on the page, each at least ``TAP_PX`` tall."""
    for name in names:
        box = page.get_by_role(role, name=name, exact=True).bounding_box()
        assert box is not None, f"{role} {name} is not shown"
        assert box["height"] >= TAP_PX, f"{role} {name} is {box['height']}px tall"
