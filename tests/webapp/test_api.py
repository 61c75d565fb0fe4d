"""POST /api/v1/cases: authentication, validation errors as JSON, idempotence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Case, Contact, Unit


@pytest.fixture
def station(make_unit: Callable[..., Unit]) -> Unit:
    return make_unit(parent=make_unit(), code="330601", name="府山派出所")


def _payload(now: dt.datetime, **overrides: Any) -> dict[str, Any]:
    payload = {
        "case_no": "J0001",
        "unit_code": "330601",
        "category": "alarm_110",
        "closed_at": (now - dt.timedelta(hours=1)).isoformat(),
        "phone": "13812345678",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def _post(client: FlaskClient, api_key: str, body: object) -> Any:
    return client.post("/api/v1/cases", json=body, headers={"Authorization": f"Bearer {api_key}"})


def _case_count(session: Session) -> int:
    return session.scalar(select(func.count(Case.id))) or 0


def test_case_is_stored_once(client: FlaskClient, session: Session, station: Unit, api_key: str, now: dt.datetime):
    first = _post(client, api_key, _payload(now))
    second = _post(client, api_key, _payload(now))
    assert first.status_code == 201
    assert second.status_code == 200
    assert first.get_json()["id"] == second.get_json()["id"]
    assert _case_count(session) == 1
    assert session.scalar(select(Contact.phone_e164)) == "+8613812345678"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"case_no": None}, "case_no"),
        ({"case_no": "  "}, "case_no"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "057588001234"}, "phone"),  # a landline cannot receive the SMS
        ({"unit_code": "999999"}, "unit_code"),
        ({"category": "murder"}, "category"),
        ({"closed_at": "yesterday"}, "closed_at"),
        ({"closed_at": "2099-01-01T00:00:00+08:00"}, "closed_at"),
        ({"citizens": [{"phone": "13812345678", "role": "boss"}]}, "citizens[0].role"),
        ({"citizens": []}, "citizens"),
        ({"citizens": [{"phone": f"13812345{n:03d}"} for n in range(21)]}, "citizens"),  # not a crowd
        ({"closed_at": "0001-01-01T00:00:00+08:00"}, "closed_at"),  # overflows in UTC
        ({"closed_at": "9999-12-31T23:59:59-08:00"}, "closed_at"),
        ({"closed_at": "1900-01-01T00:00:00"}, "closed_at"),
        ({"case_no": "J\ud800"}, "case_no"),  # a lone surrogate
        ({"case_no": "J\u0000"}, "case_no"),  # NUL, which PostgreSQL refuses
        ({"officer_name": "张\u0007三"}, "officer_name"),
    ],
)
def test_malformed_case_is_rejected_with_field_and_reason(
    client: FlaskClient, session: Session, station: Unit, api_key: str, now: dt.datetime, overrides, field
):
    response = _post(client, api_key, _payload(now, **overrides))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["reason"]
    assert _case_count(session) == 0


def test_body_must_be_a_json_object(client: FlaskClient, station: Unit, api_key: str):
    response = _post(client, api_key, ["not", "an", "object"])
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "body"


def test_json_nested_deeper_than_the_parser_follows_is_refused(client: FlaskClient, station: Unit, api_key: str):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/cases", data=body, content_type="application/json", headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "body"


@pytest.mark.parametrize("header", [None, "Bearer mk_wrong", "Basic abc"])
def test_api_key_is_required(client: FlaskClient, session: Session, station: Unit, now: dt.datetime, header):
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/v1/cases", json=_payload(now), headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["field"] == "Authorization"
    assert _case_count(session) == 0


def test_several_citizens_each_get_a_participant(
    client: FlaskClient, session: Session, station: Unit, api_key: str, now: dt.datetime
):
    citizens = [{"phone": "13812345678", "role": "reporter"}, {"phone": "+86 139 0000 1111", "role": "当事人"}]
    response = _post(client, api_key, _payload(now, phone=None, category="治安调解", citizens=citizens))
    assert response.status_code == 201
    assert response.get_json()["citizens"] == 2


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/v1/cases", 405), ("POST", "/api/v1/cases/1", 404), ("GET", "/api/v1/nope", 404)],
)
def test_errors_before_any_view_keep_the_json_shape(
    client: FlaskClient, api_key: str, method: str, path: str, status: int
):
    response = client.open(path, method=method, headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == status
    assert response.is_json
    assert response.get_json()["error"]["field"] == "request"
    if status == 405:
        assert "POST" in response.headers["Allow"]
