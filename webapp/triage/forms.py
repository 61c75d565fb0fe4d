"""Forms of the queue and the ticket page; each ticket action posts to its own endpoint."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from wtforms import BooleanField, Field, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

from surveys.models import Ticket, TicketPriority, Unit, User
from surveys.states import TicketStatus
from surveys.ticket_queue import QUEUE_STATES, QueueFilter, searches_comment_digits
from surveys.triage import PRIORITY_LABELS, STATUS_LABELS, SeenTicket
from webapp.forms import INDENT, FilterForm, OneLine, StaffForm, strip


class StatusForm(StaffForm):
    """Move the ticket on, with a note of what was done; 已分派 gives it to the chosen person."""

    status = SelectField("下一步", validators=[DataRequired("请选择下一步")])
    assignee = SelectField("分派给", choices=[])
    note = TextAreaField("处理情况", validators=[Length(max=2000, message="内容不能超过 2000 字")])
    #: The status and holder the page showed (``assigned:12``, ``new:``): a step taken from
    #: a page someone else's action has since made out of date is refused, not applied.
    seen = StringField(widget=HiddenInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The form, offering no assignee until :meth:`offer_assignees`."""
        super().__init__(*args, **kwargs)
        self.assignees: dict[str, User] = {}
        # Checked by validate_assignee, and only for an 已分派 step: the other steps ignore it.
        self.assignee.validate_choice = False

    def show(self, ticket: Ticket) -> None:
        """Record what the page shows of ``ticket`` (unless the form was posted)."""
        if not self.is_submitted():
            self.seen.data = f"{ticket.status.value}:{ticket.assignee_id or ''}"

    def offer_assignees(self, staff: Sequence[User], first_id: int | None) -> None:
        """Offer ``staff`` for an 已分派 step, the one with ``first_id`` chosen unless the form was posted.

        Without ``first_id`` nobody is chosen: 请选择 comes first, not whoever sorts first.
        """
        self.assignees = {str(user.id): user for user in staff}
        self.assignee.choices = [SelectChoice(key, user.display_name) for key, user in self.assignees.items()]
        if first_id is None:
            self.assignee.choices.insert(0, SelectChoice("", "请选择"))
        if not self.is_submitted():
            self.assignee.data = str(first_id or "")

    def validate_assignee(self, field: Field) -> None:
        """An 已分派 step names one of the people offered, or nobody (whoever has it, else the user)."""
        if self.status.data == TicketStatus.ASSIGNED and field.data and field.data not in self.assignees:
            raise ValidationError("只能分派给能办理这个单位工单的人员")

    def validate_seen(self, field: Field) -> None:
        """A posted ``seen`` is one :meth:`show` wrote, or absent (a client that does not send it)."""
        if field.data and _seen_ticket(field.data) is None:
            raise ValidationError("页面已过期，请刷新后再操作")

    def seen_ticket(self) -> SeenTicket | None:
        """What the page showed of the ticket, if the form says (after validation)."""
        return _seen_ticket(self.seen.data or "")

    def chosen_assignee(self) -> User | None:
        """The person an 已分派 step gives the ticket to, if one was chosen (after validation)."""
        return self.assignees.get(self.assignee.data or "") if self.status.data == TicketStatus.ASSIGNED else None


def _seen_ticket(value: str) -> SeenTicket | None:
    status, _, assignee = value.partition(":")
    if status not in set(TicketStatus) or not (assignee == "" or (assignee.isascii() and assignee.isdigit())):
        return None
    return SeenTicket(TicketStatus(status), int(assignee) if assignee else None)


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


#: The longest search: a case number is at most 64 characters (``cases.external_no``).
MAX_SEARCH_CHARS = 64


class QueueFilterForm(FilterForm):
    """The queue's filters: a unit outside the user's scope or a priority that does not exist is left out."""

    priority = SelectField(
        "优先级",
        choices=[SelectChoice("", "全部"), *(SelectChoice(p.value, label) for p, label in PRIORITY_LABELS.items())],
        default="",
        invalid_choice_message="没有这个优先级",
    )
    status = SelectField(
        "状态",
        choices=[
            SelectChoice("", "全部待办"),
            *(SelectChoice(s.value, STATUS_LABELS[s]) for s in TicketStatus if s in QUEUE_STATES),
        ],
        default="",
        invalid_choice_message="只能选择未关闭的状态",
    )
    unit = SelectField("单位", default="", invalid_choice_message="没有这个单位，或它不在您的权限范围内")
    overdue = BooleanField("只看已超期")
    mine = BooleanField("只看分派给我的")
    review = BooleanField("只看待复核")
    q = StringField(
        "搜索",
        default="",
        filters=[strip],
        validators=[
            Length(max=MAX_SEARCH_CHARS, message=f"搜索内容不能超过 {MAX_SEARCH_CHARS} 个字"),
            OneLine("搜索内容"),
        ],
    )

    def validate_q(self, field: Field) -> None:
        """Refuse digits in a search of comments: it would find nothing, on purpose (see the hint)."""
        if searches_comment_digits(field.data or ""):
            raise ValidationError("按留言内容搜索时不能含数字（留言中的号码已遮挡）；查工单或案件请只输编号")

    def __init__(self, formdata: Mapping[str, Any], units: Sequence[Unit]) -> None:
        """Read ``formdata`` (the query string); the units offered are ``units``, a scope's subtree in tree order."""
        super().__init__(formdata)
        top = units[0].path.count("/") if units else 0
        self.unit.choices = [
            SelectChoice("", "全部单位"),
            *(SelectChoice(str(u.id), INDENT * (u.path.count("/") - top) + u.name) for u in units),
        ]
        self._units = {str(u.id): u for u in units}

    def queue_filter(self, staff_id: int, now: dt.datetime) -> QueueFilter:
        """The filters of the fields that apply (after :meth:`validate`); ``mine`` is ``staff_id``'s tickets."""
        return QueueFilter(
            priority=TicketPriority(self.priority.data) if self.applies(self.priority) else None,
            status=TicketStatus(self.status.data) if self.applies(self.status) else None,
            unit=self._units[self.unit.data] if self.applies(self.unit) else None,
            overdue_at=now if self.applies(self.overdue) else None,
            assignee_id=staff_id if self.applies(self.mine) else None,
            is_awaiting_review=self.applies(self.review),
            search=self.q.data if self.applies(self.q) else "",
        )
