"""Static URLs carry a content fingerprint; only a current fingerprint is cached for good."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from surveys.models import Survey

STATIC = Path(__file__).resolve().parents[2] / "webapp" / "static"
IMMUTABLE = {"public", "max-age=31536000", "immutable"}


def _fingerprint(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:10]


def _directives(response) -> set[str]:
    return {part.strip() for part in response.headers["Cache-Control"].split(",")}


def _asset_urls(html: str) -> dict[str, str]:
    """The page's static URLs by file name."""
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    return {url.partition("?")[0].removeprefix("/static/"): url for url in urls}


@pytest.fixture
def survey(make_survey: Callable[..., Survey]) -> Survey:
    return make_survey()


@pytest.mark.parametrize(
    ("page", "assets"),
    [("citizen", ["citizen/survey.js", "css/citizen.css"]), ("staff", ["css/staff.css"])],
)
def test_pages_link_fingerprinted_assets_that_are_cached_for_good(
    client: FlaskClient, survey: Survey, page: str, assets: list[str]
):
    page_response = client.get(f"/s/{survey.token}" if page == "citizen" else "/login")
    assert page_response.status_code == 200
    assert page_response.headers["Cache-Control"] == "no-store"  # the page itself never is
    urls = _asset_urls(page_response.get_data(as_text=True))
    assert sorted(urls) == assets
    for filename, url in urls.items():
        content = (STATIC / filename).read_bytes()
        assert url == f"/static/{filename}?v={_fingerprint(content)}"
        with client.get(url) as asset:
            assert asset.status_code == 200
            assert asset.data == content
            assert _directives(asset) == IMMUTABLE


def test_an_asset_without_its_current_fingerprint_is_served_but_revalidated(client: FlaskClient, app: Flask):
    with app.test_request_context():
        url = url_for("static", filename="css/citizen.css")
    path, _, version = url.partition("?v=")
    content = (STATIC / "css" / "citizen.css").read_bytes()
    assert version == _fingerprint(content)
    with client.get(url) as current:
        assert _directives(current) == IMMUTABLE
    for other in (path, f"{path}?v=0123456789", f"{path}?v="):
        with client.get(other) as response:
            assert response.status_code == 200
            assert response.data == content
            assert "no-cache" in _directives(response), other
            assert "immutable" not in response.headers["Cache-Control"], other
            assert "max-age" not in response.headers["Cache-Control"], other
    with app.test_request_context():  # a name that is no file: no fingerprint, still a 404
        assert url_for("static", filename="css/missing.css") == "/static/css/missing.css"
    assert client.get("/static/css/missing.css?v=0123456789").status_code == 404


def test_a_changed_file_gets_a_new_fingerprint(make_app: Callable[..., Flask], tmp_path: Path):
    """URLs are built from the fingerprint taken at first use; serving notices a changed file.

    A file replaced under a running process (an in-place deploy) is hashed again when next
    served: its old URL gets the new bytes, but not for good, and the URLs built from then
    on name the new content. A new process names it from the start.
    """
    old, new = b"body { color: #111 }", b"body { color: #000; margin: 0 }"
    asset = tmp_path / "app.css"
    asset.write_bytes(old)

    def static_url(app: Flask) -> str:
        with app.test_request_context():
            return url_for("static", filename="app.css")

    def new_process() -> Flask:
        app = make_app()
        app.static_folder = str(tmp_path)
        return app

    running = new_process()
    old_url = static_url(running)
    assert old_url == f"/static/app.css?v={_fingerprint(old)}"
    with running.test_client().get(old_url) as current:
        assert _directives(current) == IMMUTABLE

    asset.write_bytes(new)
    assert static_url(running) == old_url  # no per-URL file access: not noticed yet
    with running.test_client().get(old_url) as stale:
        assert stale.data == new
        assert "immutable" not in stale.headers["Cache-Control"]
        assert "no-cache" in _directives(stale)
    new_url = f"/static/app.css?v={_fingerprint(new)}"
    assert static_url(running) == new_url
    assert static_url(new_process()) == new_url
    with new_process().test_client().get(new_url) as current:
        assert current.data == new
        assert _directives(current) == IMMUTABLE
