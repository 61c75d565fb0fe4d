"""The ``minyi`` command line on its own SQLite file (the commands own their transactions)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from surveys.db import make_engine, make_session_factory
from surveys.models import Case, Response, Survey, Ticket, Unit, User
from webapp.cli import domain_cli


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "MINYI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "MINYI_QUIET_HOURS_START": "00:00",
        "MINYI_QUIET_HOURS_END": "00:00",
    }


def _count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def test_demo_builds_a_city_with_answers_and_tickets(cli_env: dict[str, str]):
    result = CliRunner().invoke(domain_cli, ["demo", "--reset", "--cases", "120"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "login supervisor" in result.output
    assert "API key" in result.output
    url = cli_env["MINYI_DATABASE_URL"]
    assert _count(url, Unit) == 30
    assert _count(url, User) == 5
    assert _count(url, Case) == 123  # plus three closed just now, for the scheduler to send
    assert _count(url, Response) > 50
    assert _count(url, Ticket) > 0
    # Running it again with --reset starts over instead of failing on duplicates.
    again = CliRunner().invoke(domain_cli, ["demo", "--reset", "--cases", "10"], env=cli_env)
    assert again.exit_code == 0, again.output
    assert _count(url, Case) == 13


def test_tick_sends_the_fresh_demo_cases(cli_env: dict[str, str]):
    CliRunner().invoke(domain_cli, ["demo", "--reset", "--cases", "5"], env=cli_env)
    result = CliRunner().invoke(domain_cli, ["tick"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "sent=3" in result.output
    assert _count(cli_env["MINYI_DATABASE_URL"], Survey) >= 3


def test_import_reports_bad_rows_and_keeps_good_ones(cli_env: dict[str, str], tmp_path: Path):
    CliRunner().invoke(domain_cli, ["demo", "--reset", "--cases", "0"], env=cli_env)
    csv_file = tmp_path / "cases.csv"
    csv_file.write_text(
        "case_no,unit_code,category,closed_at,phone\n"
        "X1,33060101,110警情,2026-11-20 09:00,13812345678\n"
        "X2,33060101,110警情,2026-11-20 09:00,not-a-phone\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(domain_cli, ["import", str(csv_file)], env=cli_env)
    assert result.exit_code == 1
    assert "imported=1 duplicates=0 errors=1" in result.output
    assert "第 3 行 phone" in result.output


def test_a_deployment_is_set_up_from_the_command_line(cli_env: dict[str, str], tmp_path: Path):
    runner = CliRunner()
    assert runner.invoke(domain_cli, ["migrate"], env=cli_env).exit_code == 0
    units = tmp_path / "units.csv"
    units.write_text(
        "code,name,level,parent_code,hotline\n330600,绍兴市公安局,city,,0575-110\n330601,越城分局,branch,330600,\n",
        encoding="utf-8",
    )
    assert "units created=2" in runner.invoke(domain_cli, ["import-units", str(units)], env=cli_env).output
    user = runner.invoke(
        domain_cli,
        ["create-user", "chen", "--role", "supervisor", "--unit", "330601"],
        input="a-long-password\na-long-password\n",
        env=cli_env,
    )
    assert user.exit_code == 0, user.output
    key = runner.invoke(domain_cli, ["create-api-key", "警务系统", "--source", "jwxt"], env=cli_env)
    assert key.output.strip().startswith("mk_")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,level,parent_code\n330602,柯桥分局,branch,999999\n", encoding="utf-8")
    refused = runner.invoke(domain_cli, ["import-units", str(bad)], env=cli_env)
    assert refused.exit_code == 1
    assert "上级单位不存在" in refused.output
    assert _count(cli_env["MINYI_DATABASE_URL"], Unit) == 2


def test_nlp_train_from_db_and_rescore_keeps_history(cli_env: dict[str, str], tmp_path: Path):
    from surveys.models import Analysis

    runner = CliRunner()
    assert runner.invoke(domain_cli, ["demo", "--reset", "--cases", "80"], env=cli_env).exit_code == 0
    url = cli_env["MINYI_DATABASE_URL"]
    analyses_before = _count(url, Analysis)
    model_dir = tmp_path / "model"
    trained = runner.invoke(
        domain_cli,
        ["nlp", "train", "--task", "sentiment", "--from-db", "--no-base", "--out", str(model_dir), "--version", "t1"],
        env=cli_env,
    )
    assert trained.exit_code == 0, trained.output
    assert "labelled rows from the database" in trained.output
    assert (model_dir / "manifest.json").is_file()
    rescored = runner.invoke(domain_cli, ["nlp", "rescore", "--model", str(model_dir)], env=cli_env)
    assert rescored.exit_code == 0, rescored.output
    count = int(rescored.output.split("rescored=")[1].split()[0])
    assert count > 0
    assert _count(url, Analysis) == analyses_before + count  # old analyses are kept


def test_nlp_train_category_from_db_follows_the_taxonomy_in_force(cli_env: dict[str, str], tmp_path: Path):
    import json

    from nlp.taxonomy import Category, default_taxonomy
    from surveys.db import utcnow
    from surveys.taxonomies import save_taxonomy

    runner = CliRunner()
    assert runner.invoke(domain_cli, ["demo", "--reset", "--cases", "20"], env=cli_env).exit_code == 0
    url = cli_env["MINYI_DATABASE_URL"]
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        admin = session.scalars(select(User).where(User.role == "admin")).first()
        assert admin is not None
        noise = Category(name="噪音扰民", description="夜间噪音", seeds=("噪音", "扰民", "广场舞"))
        save_taxonomy(session, [*default_taxonomy().categories, noise], admin, utcnow())
        session.commit()
    engine.dispose()
    model_dir = tmp_path / "model"
    trained = runner.invoke(
        domain_cli,
        ["nlp", "train", "--task", "category", "--from-db", "--out", str(model_dir), "--version", "t2"],
        env=cli_env,
    )
    assert trained.exit_code == 0, trained.output
    header = json.loads((model_dir / "category.json").read_text(encoding="utf-8"))
    # The administrator's category is learned from its seeds, in the taxonomy's order.
    assert "噪音扰民" in header["classes"]
    assert header["classes"].index("噪音扰民") > header["classes"].index("廉洁问题")
    assert header["metadata"]["taxonomy_version"].startswith("r")
