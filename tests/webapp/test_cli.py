"""The ``minyi`` command line on its own SQLite file (the commands own their transactions)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from surveys.cli import DateTimeParam, in_zone
from surveys.db import make_engine, make_session_factory
from surveys.models import ApiKey, AuditEntry, Case, DispatchPolicy, Response, Role, Survey, Ticket, Unit, User
from webapp.cli import domain_cli

T = TypeVar("T")


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "MINYI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "MINYI_QUIET_HOURS_START": "00:00",
        "MINYI_QUIET_HOURS_END": "00:01",
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
    # 14:00 in Asia/Shanghai, away from the demo's one quiet minute (00:00-00:01).
    with time_machine.travel(dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)):
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


def test_nlp_train_urgency_from_db_learns_the_false_alarms_handlers_dismissed(cli_env: dict[str, str], tmp_path: Path):
    import json

    from surveys.models import Ticket, TicketEvent
    from surveys.triage import URGENCY_DISMISSED

    runner = CliRunner()
    assert runner.invoke(domain_cli, ["demo", "--reset", "--cases", "80"], env=cli_env).exit_code == 0
    engine = make_engine(cli_env["MINYI_DATABASE_URL"])
    with make_session_factory(engine).begin() as session:
        ticket = session.scalars(select(Ticket)).first()
        assert ticket is not None
        data = {"kinds": ["integrity"], "comment": "事后想给民警包个红包，他们坚决不收"}
        session.add(TicketEvent(ticket=ticket, kind=URGENCY_DISMISSED, data=data, created_at=ticket.created_at))
    engine.dispose()
    model_dir = tmp_path / "model"
    trained = runner.invoke(
        domain_cli,
        ["nlp", "train", "--task", "urgency", "--from-db", "--out", str(model_dir), "--version", "t3"],
        env=cli_env,
    )
    assert trained.exit_code == 0, trained.output
    assert "1 labelled rows from the database" in trained.output
    header = json.loads((model_dir / "urgency.json").read_text(encoding="utf-8"))
    assert "0" in header["classes"]


UNITS = "code,name,level,parent_code,hotline\n330600,绍兴市公安局,city,,\n330601,越城分局,branch,330600,\n"
PASSWORD = "a-long-password\na-long-password\n"


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(domain_cli, list(args), env=env, input=stdin)


def _set_up(env: dict[str, str], tmp_path: Path, units: str = UNITS) -> None:
    """A migrated database with a city and a branch (no demo data)."""
    assert _run(env, "migrate").exit_code == 0
    path = tmp_path / "units.csv"
    path.write_text(units, encoding="utf-8")
    assert _run(env, "import-units", str(path)).exit_code == 0


def _rows(url: str, model: type[T]) -> list[T]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_demo_refuses_a_database_that_holds_data(cli_env: dict[str, str], tmp_path: Path):
    _set_up(cli_env, tmp_path)
    url = cli_env["MINYI_DATABASE_URL"]

    refused = _run(cli_env, "demo", "--cases", "5")

    assert refused.exit_code == 1
    assert isinstance(refused.exception, SystemExit)
    assert "already holds data" in refused.output
    assert "--reset" in refused.output
    assert _count(url, User) == 0
    assert _count(url, DispatchPolicy) == 0
    assert _count(url, Unit) == 2


def test_demo_on_an_empty_database_runs_once_and_then_refuses(cli_env: dict[str, str]):
    assert _run(cli_env, "demo", "--cases", "5").exit_code == 0
    url = cli_env["MINYI_DATABASE_URL"]
    policy = _rows(url, DispatchPolicy)

    again = _run(cli_env, "demo", "--cases", "5")

    assert again.exit_code == 1
    assert isinstance(again.exception, SystemExit)  # no IntegrityError traceback
    assert "already holds data" in again.output
    assert _count(url, User) == 5
    assert [(p.id, p.quiet_hours_start) for p in _rows(url, DispatchPolicy)] == [
        (p.id, p.quiet_hours_start) for p in policy
    ]


def test_commands_that_change_data_are_audited(cli_env: dict[str, str], tmp_path: Path):
    _set_up(cli_env, tmp_path)
    assert _run(cli_env, "create-user", "chen", "--role", "admin", "--unit", "330600", stdin=PASSWORD).exit_code == 0
    assert _run(cli_env, "create-api-key", "警务系统", "--source", "jwxt").exit_code == 0
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "case_no,unit_code,category,closed_at,phone\nX1,330601,110警情,2026-11-20 09:00,13812345678\n", encoding="utf-8"
    )
    assert _run(cli_env, "import", str(cases)).exit_code == 0
    assert _run(cli_env, "purge", "--days", "365").exit_code == 0

    entries = _rows(cli_env["MINYI_DATABASE_URL"], AuditEntry)

    assert [entry.action for entry in entries] == [
        "units.import",
        "user.create",
        "api_key.create",
        "cases.import",
        "retention.purge",
    ]
    assert all(entry.actor_id is None and entry.detail["via"] == "cli" for entry in entries)
    assert all(entry.detail["os_user"] for entry in entries)
    assert entries[0].detail["created"] == 2
    assert entries[3].detail["created"] == 1
    assert entries[4].detail["days"] == 365


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ("2,孤立派出所,station,,", "station 级单位必须填写上级单位"),
        ("2,孤立分局,branch,,", "branch 级单位必须填写上级单位"),
        ("2,下级市局,city,330600,", "city 级单位是最上级"),
        ("2,分局,branch,330601,", "branch 级单位不能隶属于 branch 级单位 330601"),
    ],
)
def test_import_units_refuses_a_broken_hierarchy_and_names_the_row(
    cli_env: dict[str, str], tmp_path: Path, rows: str, reason: str
):
    _set_up(cli_env, tmp_path)
    path = tmp_path / "more.csv"
    path.write_text(f"code,name,level,parent_code,hotline\n1,新派出所,station,330601,\n{rows}\n", encoding="utf-8")

    refused = _run(cli_env, "import-units", str(path))

    assert refused.exit_code == 1
    assert "第 3 行" in refused.output
    assert reason in refused.output
    assert _count(cli_env["MINYI_DATABASE_URL"], Unit) == 2  # the good first row is not kept either


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("", PASSWORD, "用户名不能为空"),
        (" admin ", PASSWORD, "开头或结尾不能有空格"),
        ("a" * 65, PASSWORD, "用户名最多 64 个字符"),
        ("chen", "short\nshort\n", "密码至少 8 位"),
    ],
)
def test_create_user_refuses_bad_usernames_and_short_passwords(
    cli_env: dict[str, str], tmp_path: Path, username: str, password: str, reason: str
):
    _set_up(cli_env, tmp_path)

    refused = _run(cli_env, "create-user", username, "--role", "admin", "--unit", "330600", stdin=password)

    assert refused.exit_code == 1
    assert reason in refused.output
    assert _count(cli_env["MINYI_DATABASE_URL"], User) == 0


def test_accounts_and_keys_are_deactivated_demoted_and_revoked(cli_env: dict[str, str], tmp_path: Path):
    _set_up(cli_env, tmp_path)
    url = cli_env["MINYI_DATABASE_URL"]
    for name in ("root", "second"):
        assert _run(cli_env, "create-user", name, "--role", "admin", "--unit", "330600", stdin=PASSWORD).exit_code == 0
    key = _run(cli_env, "create-api-key", "警务系统", "--source", "jwxt").output.strip()

    assert _run(cli_env, "set-role", "second", "supervisor").exit_code == 0
    last_role = _run(cli_env, "set-role", "root", "handler")
    last_active = _run(cli_env, "deactivate-user", "root")
    assert _run(cli_env, "set-role", "second", "admin").exit_code == 0
    assert _run(cli_env, "deactivate-user", "root").exit_code == 0
    assert _run(cli_env, "revoke-api-key", key[:10]).exit_code == 0
    revoked_twice = _run(cli_env, "revoke-api-key", "1")

    for refused in (last_role, last_active):
        assert refused.exit_code == 1
        assert "最后一个启用的市局（最上级单位）管理员" in refused.output
    assert revoked_twice.exit_code == 1
    assert "已于" in revoked_twice.output
    root, second = _rows(url, User)
    assert (root.is_active, root.role, root.session_epoch) == (False, Role.ADMIN, 1)
    assert (second.is_active, second.role) == (True, Role.ADMIN)
    assert _rows(url, ApiKey)[0].revoked_at is not None
    actions = [entry.action for entry in _rows(url, AuditEntry) if entry.action.startswith(("user.", "api_key."))]
    assert actions[-4:] == ["user.set_role", "user.set_role", "user.deactivate", "api_key.revoke"]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["tick", "--now", "yesterday"], {}, "is not an ISO date-time"),
        (["tick", "--now", "0001-01-01T00:00"], {}, "the year must be between"),
        (["purge", "--days", "100000000"], {}, "保留期不能超过 36500 天"),
        (["purge", "--days", "7"], {}, "保留期不能少于 30 天"),
        (["nlp", "rescore"], {"MINYI_TIMEZONE": "Mars/Olympus"}, "MINYI_TIMEZONE='Mars/Olympus'"),
        (
            ["nlp", "train", "--task", "sentiment", "--from-db", "--out", "model"],
            {"MINYI_TIMEZONE": "Mars/Olympus"},
            "MINYI_TIMEZONE='Mars/Olympus'",
        ),
        (  # the URL is given so that `run` does not set it in this process's environment
            ["run"],
            {"MINYI_TIMEZONE": "Mars/Olympus", "MINYI_PUBLIC_BASE_URL": "http://minyi.test"},
            "MINYI_TIMEZONE='Mars/Olympus'",
        ),
        (["tick"], {"MINYI_NLP_MODEL_DIR": "/nonexistent"}, "MINYI_NLP_MODEL_DIR='/nonexistent' is not a directory"),
        (["nlp", "train", "--task", "sentiment", "--csv", "bad.csv", "--out", "model"], {}, "no 'text' column"),
        (
            ["nlp", "train", "--task", "sentiment", "--csv", "label.csv", "--out", "model"],
            {},
            "unknown sentiment label",
        ),
    ],
)
def test_bad_input_is_a_one_line_error_not_a_traceback(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    message: str,
):
    assert _run(cli_env, "migrate").exit_code == 0
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")
    (tmp_path / "label.csv").write_text("text,label\n好,great\n", encoding="utf-8")

    result = _run(cli_env | env, *args)

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception
    assert message in result.output
    assert not (tmp_path / "model").exists()


def test_a_time_without_offset_is_read_in_the_deployment_zone():
    naive = DateTimeParam().convert("2026-11-20T14:00", None, None)
    aware = DateTimeParam().convert("2026-11-20T14:00+00:00", None, None)

    assert in_zone(naive, ZoneInfo("Asia/Shanghai")) == dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
    assert in_zone(aware, ZoneInfo("Asia/Shanghai")) == dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)
