"""Forms of the ticket page; each action posts to its own endpoint."""

from __future__ import annotations

from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import HiddenInput

from surveys.models import TicketPriority
from surveys.states import TicketStatus
from webapp.forms import StaffForm

STATUS_LABELS = {
    TicketStatus.NEW: "待分派",
    TicketStatus.ASSIGNED: "已分派",
    TicketStatus.IN_PROGRESS: "核实整改中",
    TicketStatus.ESCALATED: "已升级",
    TicketStatus.RESOLVED: "已办结待回访",
    TicketStatus.CLOSED: "已关闭",
}
PRIORITY_LABELS = {TicketPriority.URGENT: "紧急", TicketPriority.HIGH: "高", TicketPriority.NORMAL: "一般"}


class StatusForm(StaffForm):
    """Move the ticket on, with a note of what was done."""

    status = SelectField("下一步", validators=[DataRequired("请选择下一步")])
    note = TextAreaField("处理情况", validators=[Length(max=2000, message="内容不能超过 2000 字")])


class NoteForm(StaffForm):
    """A note, or the record of a call-back to the citizen."""

    kind = RadioField(
        "类型", choices=[SelectChoice("note", "备注"), SelectChoice("callback", "回访记录")], default="note"
    )
    note = TextAreaField(
        "内容", validators=[DataRequired("请填写内容"), Length(max=2000, message="内容不能超过 2000 字")]
    )


class CategoryForm(StaffForm):
    """The handler's category; each change is a training label for the category model."""

    category = SelectField("问题类别", validators=[DataRequired("请选择类别")])


class DismissUrgencyForm(StaffForm):
    """The handler's verdict that the urgent flags are false alarms, with the reason."""

    note = TextAreaField(
        "理由", validators=[DataRequired("请说明为何判断为误报"), Length(max=2000, message="内容不能超过 2000 字")]
    )


class ReviewDismissalForm(StaffForm):
    """A second person's confirmation or rejection of a proposed dismissal.

    One form, two buttons posting to the confirm and reject endpoints: the note is
    optional to confirm (the proposer's reason is on record) and required to reject, which
    the service checks.
    """

    #: The proposal the reviewer read: another one made meanwhile is not theirs to judge.
    proposal = IntegerField(widget=HiddenInput(), validators=[InputRequired("缺少误报提议编号：请刷新页面后再复核")])
    note = TextAreaField("复核意见", validators=[Length(max=2000, message="内容不能超过 2000 字")])


class RevealPhoneForm(StaffForm):
    """Only a CSRF token: revealing the number is a POST so it can be audited."""
