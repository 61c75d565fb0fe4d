"""Forms of the ticket page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from surveys.states import TicketStatus

STATUS_LABELS = {
    TicketStatus.NEW: "待分派",
    TicketStatus.ASSIGNED: "已分派",
    TicketStatus.IN_PROGRESS: "核实整改中",
    TicketStatus.ESCALATED: "已升级",
    TicketStatus.RESOLVED: "已办结待回访",
    TicketStatus.CLOSED: "已关闭",
}


class StatusForm(FlaskForm):
    """Move the ticket on, with a note of what was done."""

    status = SelectField("下一步", validators=[DataRequired()])
    note = TextAreaField("处理情况", validators=[Length(max=2000)])
