"""The dispatch policy form: every field optional, blank meaning "inherit"."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectMultipleField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from surveys.models import CASE_CATEGORY_LABELS, CaseCategory
from surveys.policy import PolicyOverrides


class CheckboxListField(SelectMultipleField):
    """A multiple choice shown as checkboxes (usable without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DispatchPolicyForm(FlaskForm):
    """Overrides of one unit or of the deployment."""

    delay_minutes = IntegerField("结案后多久发送（分钟）", validators=[Optional()])
    quiet_hours_start = TimeField("免打扰开始", validators=[Optional()])
    quiet_hours_end = TimeField("免打扰结束", validators=[Optional()])
    frequency_cap_days = IntegerField("同一号码回访间隔（天）", validators=[Optional()])
    sampling_percent = IntegerField("抽样比例（%）", validators=[Optional()])
    reminder_after_hours = IntegerField("未评价提醒（发送后小时数，0 为不提醒）", validators=[Optional()])
    expiry_days = IntegerField("评价有效期（天）", validators=[Optional()])
    override_categories = BooleanField("单独设置不回访的案件类别")
    excluded_categories = CheckboxListField(
        "不回访的案件类别（不宜回访）",
        choices=[SelectChoice(c.value, CASE_CATEGORY_LABELS[c]) for c in CaseCategory],
        validate_choice=True,
    )
    survey_template = TextAreaField("回访短信模板", validators=[Optional()])
    reminder_template = TextAreaField("提醒短信模板", validators=[Optional()])

    @classmethod
    def from_overrides(cls, overrides: PolicyOverrides) -> DispatchPolicyForm:
        """A form showing the stored overrides (a GET)."""
        data = {name: getattr(overrides, name) for name in PolicyOverrides.__dataclass_fields__}
        categories = overrides.excluded_categories
        data["override_categories"] = categories is not None
        data["excluded_categories"] = [c.value for c in categories or ()]
        return cls(data=data)

    def to_overrides(self) -> PolicyOverrides:
        """The submitted overrides; blank fields and unticked category override inherit."""
        values = {name: getattr(self, name).data for name in PolicyOverrides.__dataclass_fields__}
        for name in ("survey_template", "reminder_template"):
            values[name] = (values[name] or "").strip() or None
        chosen = tuple(CaseCategory(c) for c in self.excluded_categories.data or ())
        values["excluded_categories"] = chosen if self.override_categories.data else None
        return PolicyOverrides(**values)
