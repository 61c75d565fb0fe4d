"""Provider webhooks: verify, parse into our terms, call one service, commit, answer.

Each provider gets the answer format it documents (TwiML for Twilio's inbound webhook,
``{"code": 0}`` for Alibaba Cloud's pushes). A request that fails verification gets 403
and changes nothing; a replay of a genuine one is recognised by the services and also
changes nothing. The blueprint is exempt from CSRF: providers cannot send our token,
and the signature check takes its place.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from twilio.twiml.messaging_response import MessagingResponse

from surveys.delivery_reports import apply_delivery_reports
from surveys.dispatch_settings import DispatchSettings, load_dispatch_settings
from surveys.replies import handle_inbound_messages
from surveys.settings import Settings
from surveys.sms import alibaba_push, twilio
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.extensions import csrf
from webapp.sms_webhooks.signatures import alibaba_request_has_token, twilio_request_is_signed

bp = Blueprint("sms_webhooks", __name__, url_prefix="/sms")
csrf.exempt(bp)


@bp.record_once
def _load_dispatch_settings(state: Any) -> None:
    """Provider settings are read once, when the app is built (tests pass their own)."""
    if "MINYI_DISPATCH_SETTINGS" not in state.app.config:
        state.app.config["MINYI_DISPATCH_SETTINGS"] = load_dispatch_settings()


def _settings() -> Settings:
    settings: Settings = current_app.config["MINYI_SETTINGS"]
    return settings


def _dispatch_settings() -> DispatchSettings:
    dispatch_settings: DispatchSettings = current_app.config["MINYI_DISPATCH_SETTINGS"]
    return dispatch_settings


def _require_twilio_signature() -> None:
    if not twilio_request_is_signed(_settings().twilio_auth_token):
        abort(403)


def _alibaba_payload() -> Any:
    if not alibaba_request_has_token(_dispatch_settings().alibaba.push_token):
        abort(403)
    payload = request.get_json(silent=True)
    if not isinstance(payload, list):
        abort(400)
    return payload


def _alibaba_ok() -> ResponseReturnValue:
    return jsonify(code=0, msg="接收成功")


@bp.post("/twilio/status")
def twilio_status() -> ResponseReturnValue:
    """A StatusCallback: sent → delivered, or failed with the carrier's code."""
    _require_twilio_signature()
    report = twilio.parse_status_callback(request.form)
    if report is None:
        abort(400)
    session = get_session()
    apply_delivery_reports(session, [report], clock_now())
    session.commit()
    return "", 204


@bp.post("/twilio/inbound")
def twilio_inbound() -> ResponseReturnValue:
    """A citizen's reply to our Twilio number; answered with empty TwiML (no auto-reply)."""
    _require_twilio_signature()
    inbound = twilio.parse_inbound(request.form)
    if inbound is None:
        abort(400)
    session = get_session()
    handle_inbound_messages(session, [inbound], clock_now(), _settings())
    session.commit()
    return str(MessagingResponse()), 200, {"Content-Type": "text/xml; charset=utf-8"}


@bp.post("/alibaba/report")
def alibaba_report() -> ResponseReturnValue:
    """An SmsReport push: delivery receipts, several per request."""
    reports = alibaba_push.parse_reports(_alibaba_payload())
    session = get_session()
    apply_delivery_reports(session, reports, clock_now())
    session.commit()
    return _alibaba_ok()


@bp.post("/alibaba/inbound")
def alibaba_inbound() -> ResponseReturnValue:
    """An SmsUp push: citizens' replies, several per request."""
    settings = _settings()
    replies = alibaba_push.parse_replies(_alibaba_payload(), settings.default_region)
    session = get_session()
    handle_inbound_messages(session, replies, clock_now(), settings)
    session.commit()
    return _alibaba_ok()
