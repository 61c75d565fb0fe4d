"""``/api/v1``: authenticated by API key, JSON in and out, errors name a field and a reason."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from surveys.accounts import authenticate_api_key
from surveys.cases import store_case, validate_case
from surveys.errors import ValidationError
from surveys.models import Case
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def error_response(status: int, field: str, reason: str) -> Response:
    """The one error shape of the API: ``{"error": {"field": …, "reason": …}}``."""
    response = jsonify(error={"field": field, "reason": reason})
    response.status_code = status
    return response


@bp.before_request
def _require_api_key() -> Response | None:
    header = request.headers.get("Authorization", "")
    key = (
        header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else request.headers.get("X-API-Key", "")
    )
    api_key = authenticate_api_key(get_session(), key) if key else None
    if api_key is None:
        return error_response(401, "Authorization", "缺少或无效的 API 密钥")
    g.api_source = api_key.source
    return None


@bp.errorhandler(HTTPException)
def error_for(exc: HTTPException) -> Response:
    """Any HTTP error under the API in its JSON shape (also those before routing: webapp.errors)."""
    response = error_response(exc.code or 500, "request", exc.description or exc.name)
    allow = dict(exc.get_headers()).get("Allow")  # a 405 says what the URL takes
    if allow:
        response.headers["Allow"] = allow
    return response


def serialize_case(case: Case) -> dict[str, Any]:
    """The case as the API returns it (no phone numbers)."""
    return {
        "id": case.id,
        "case_no": case.external_no,
        "source": case.source,
        "unit_code": case.unit.code,
        "category": case.category.value,
        "closed_at": case.closed_at.isoformat(),
        "citizens": len(case.participants),
    }


@bp.post("/cases")
def create_case() -> tuple[Response, int] | Response:
    """Store a closed case once: 201 when new, 200 with the stored case on a retry."""
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser follows
        payload = None
    if not isinstance(payload, dict):
        return error_response(400, "body", "请求体应为 JSON 对象")
    settings = current_app.config["MINYI_SETTINGS"]
    session = get_session()
    try:
        case_input = validate_case(
            session, payload, source=g.api_source, now=clock_now(), tz=settings.timezone, region=settings.default_region
        )
    except ValidationError as exc:
        return error_response(400, exc.field, exc.reason)
    try:
        case, created = store_case(session, case_input)
        session.commit()
    except IntegrityError:
        # The same case (or a new citizen of it) was stored by a concurrent request, such
        # as a case system's retry: stored once, this request reads it back.
        session.rollback()
        case, created = store_case(session, case_input)
        session.commit()
    return jsonify(serialize_case(case)), 201 if created else 200
