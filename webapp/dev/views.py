"""The console provider's outbox: read the SMS a citizen would get and follow its link."""

from __future__ import annotations

from flask import Blueprint, render_template

from surveys.sms_log import recent_outbound
from webapp.db import get_session

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/outbox")
def outbox() -> str:
    """The newest outbound messages, phone numbers masked, links clickable."""
    return render_template("dev/outbox.html", messages=recent_outbound(get_session(), provider="console"))
