"""The web configuration's generated secret key: where it is kept and that it lasts."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import make_url

from surveys.settings import Settings, load_settings
from webapp.config import configure


@pytest.fixture
def flask_instance(tmp_path: Path) -> Path:
    """Where Flask itself would put instance files (an editable install's ``instance/``)."""
    return tmp_path / "flask-instance"


@pytest.fixture
def configured_app(flask_instance: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Flask]:
    """``configured_app()``: a bare app run through ``configure`` without a secret key configured."""
    monkeypatch.delenv("MINYI_SECRET_KEY", raising=False)

    def factory() -> Flask:
        app = Flask(__name__, instance_path=str(flask_instance))
        configure(app, {"MINYI_SETTINGS": settings})
        return app

    return factory


def test_the_key_is_kept_in_the_configured_instance_dir(
    configured_app: Callable[[], Flask], flask_instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MINYI_INSTANCE_DIR", str(tmp_path / "deployment"))

    app = configured_app()

    key_file = tmp_path / "deployment" / "secret_key"
    assert key_file.read_text() == app.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not flask_instance.exists()


def test_a_relative_instance_dir_puts_the_key_beside_the_default_database(
    configured_app: Callable[[], Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINYI_INSTANCE_DIR", "var/minyi")
    monkeypatch.delenv("MINYI_DATABASE_URL", raising=False)

    app = configured_app()

    database = Path(make_url(load_settings().database_url).database or "")
    assert (database.parent / "secret_key").read_text() == app.secret_key
    assert database.parent == tmp_path / "var" / "minyi"


def test_without_an_instance_dir_the_key_stays_in_flasks_instance_path(
    configured_app: Callable[[], Flask], flask_instance: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("MINYI_INSTANCE_DIR", raising=False)

    app = configured_app()

    assert (flask_instance / "secret_key").read_text() == app.secret_key


def test_the_generated_key_survives_a_restart(
    configured_app: Callable[[], Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MINYI_INSTANCE_DIR", str(tmp_path / "deployment"))

    first, second = configured_app(), configured_app()

    assert len(first.secret_key) == 64
    assert second.secret_key == first.secret_key


def test_a_configured_key_writes_no_file(
    configured_app: Callable[[], Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MINYI_INSTANCE_DIR", str(tmp_path / "deployment"))
    monkeypatch.setenv("MINYI_SECRET_KEY", "from-the-environment")

    app = configured_app()

    assert app.secret_key == "from-the-environment"
    assert not (tmp_path / "deployment").exists()
