"""The console provider's outbox: read the SMS a citizen would get and follow its link."""

from __future__ import annotations

import re

from flask import Blueprint, render_template

from surveys.models import Role
from surveys.sms_log import recent_outbound
from webapp.db import get_session
from webapp.security import roles_required

bp = Blueprint("dev", __name__, url_prefix="/dev")

#: SMS texts put the link right after Chinese punctuation, which Jinja's urlize misses.
_LINK = re.compile(r"https?://[^\s，。；]+")


@bp.get("/outbox")
@roles_required(Role.ADMIN)
def outbox() -> str:
    """The newest outbound messages, phone numbers masked, links clickable.

    Administrators only: each link is a citizen's credential to answer their survey, and
    the console provider is the default, so an installation that never configured a real
    provider would otherwise list them to anyone.
    """
    messages = recent_outbound(get_session(), provider="console")
    links = {m.id: match.group(0) for m in messages if (match := _LINK.search(m.body))}
    return render_template("dev/outbox.html", messages=messages, links=links)
