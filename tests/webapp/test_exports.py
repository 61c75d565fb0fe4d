"""Spreadsheet exports: what a supervisor downloads, and no formula a citizen could plant."""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl
import pytest
from flask.testing import FlaskClient

from surveys.exports import safe_text
from surveys.models import Role, Ticket, User
from tests.factories import AuthActions
from tests.webapp.conftest import Tree


def _sheet_rows(data: bytes) -> list[tuple[object, ...]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return list(workbook.active.iter_rows(values_only=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("－1", "'－1"),
        ("民警态度好", "民警态度好"),
        ("1-2", "1-2"),
    ],
)
def test_safe_text_quotes_formula_triggers(text: str, expected: str):
    assert safe_text(text) == expected


def test_ticket_export_neutralises_formulas_and_omits_phones(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    ticket = make_ticket(tree.east_station, overall=1, comment='=HYPERLINK("http://evil.example","点我") 态度差')
    auth.login(make_user(Role.HANDLER, tree.city).username)
    response = client.get("/triage/export.xlsx")
    assert response.status_code == 200
    rows = _sheet_rows(response.data)
    assert rows[0][0] == "编号"
    [row] = [r for r in rows[1:] if r[0] == ticket.id]
    assert row[6].startswith("'=HYPERLINK")
    phone = ticket.response.survey.contact.phone_e164
    assert all(phone not in str(cell) for r in rows for cell in r)


def test_index_export_matches_the_page(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    make_ticket(tree.east_station, overall=2)
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    rows = _sheet_rows(client.get(f"/dashboard/export.xlsx?unit={tree.city.id}&days=7").data)
    assert [r[0] for r in rows] == ["单位", "绍兴市公安局", "越城分局", "柯桥分局"]
    assert rows[1][6] == 1  # one answer in the whole city
