"""The administrators' forms: the dispatch policy (blank means "inherit"), the taxonomy and the audit log's filters."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from nlp import Category, Taxonomy
from surveys.audit_log import ACTION_LABELS, AuditFilter
from surveys.models import CASE_CATEGORY_LABELS, CaseCategory
from surveys.policy import PolicyOverrides
from surveys.taxonomies import MAX_CATEGORIES
from webapp.forms import FilterForm, OneLine, StaffForm, strip


class CheckboxListField(SelectMultipleField):
    """A multiple choice shown as checkboxes (usable without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DispatchPolicyForm(StaffForm):
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


#: What separates seed phrases in the box: new lines, or the usual Chinese and Latin commas.
SEED_SEPARATORS = re.compile(r"[\n\r,，、;；]+")


class CategoryRowForm(Form):
    """One category of the taxonomy form (a sub-form: the page's CSRF token covers it)."""

    name = StringField("类别名称", filters=[strip])
    description = StringField("说明", filters=[strip])
    seeds = TextAreaField("关键词（每行一个，或用顿号、逗号分隔）")
    remove = BooleanField("删除此类别")

    def draft(self) -> Category:
        """The row as the taxonomy service takes it."""
        seeds = tuple(seed.strip() for seed in SEED_SEPARATORS.split(self.seeds.data or "") if seed.strip())
        return Category(name=self.name.data or "", description=self.description.data or "", seeds=seeds)

    def is_blank(self) -> bool:
        """An untouched empty row (the form always offers one for a new category)."""
        return not (self.name.data or self.description.data or strip(self.seeds.data))


class TaxonomyForm(StaffForm):
    """The whole taxonomy, one row per category, plus an empty row to add one."""

    categories = FieldList(FormField(CategoryRowForm), min_entries=1, max_entries=MAX_CATEGORIES + 1)

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy) -> TaxonomyForm:
        """A form showing ``taxonomy`` (a GET), with one empty row at the end."""
        rows = [
            {"name": category.name, "description": category.description, "seeds": "\n".join(category.seeds)}
            for category in taxonomy.categories
        ]
        return cls(data={"categories": [*rows, {}]})

    def kept_rows(self) -> list[CategoryRowForm]:
        """The rows to save: neither ticked for removal nor left blank."""
        rows: list[CategoryRowForm] = [entry.form for entry in self.categories]
        return [row for row in rows if not row.remove.data and not row.is_blank()]

    def show_errors(self, rows: list[CategoryRowForm], errors: dict[str, str]) -> None:
        """Attach the service's errors (keyed by position among ``rows``) to their fields."""
        for key, reason in errors.items():
            _, position, name = key.split("-", 2)
            index = int(position)
            if index < len(rows):
                getattr(rows[index], name).errors = [reason]
            else:
                self.form_errors.append(reason)


class AuditFilterForm(FilterForm):
    """The audit log's filters: an action, who acted, and a range of local dates (both ends included)."""

    action = SelectField(
        "操作",
        choices=[SelectChoice("", "全部操作"), *(SelectChoice(key, label) for key, label in ACTION_LABELS.items())],
        default="",
        invalid_choice_message="没有这种操作",
    )
    actor = StringField(
        "操作人",
        default="",
        filters=[strip],
        validators=[Length(max=64, message="操作人不能超过 64 个字"), OneLine("操作人")],
    )
    since = DateField("起始日期", validators=[Optional()])
    until = DateField("截止日期", validators=[Optional()])

    def validate_until(self, field: DateField) -> None:
        """The range runs forwards."""
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("截止日期不能早于起始日期")

    def audit_filter(self, tz: ZoneInfo) -> AuditFilter:
        """The filters of the fields that apply (after :meth:`validate`), the dates as days in ``tz``."""

        def midnight(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(), tzinfo=tz)

        return AuditFilter(
            action=self.action.data if self.applies(self.action) else None,
            actor=self.actor.data if self.applies(self.actor) else "",
            since=midnight(self.since.data) if self.applies(self.since) else None,
            until=midnight(self.until.data + dt.timedelta(days=1))
            if self.applies(self.until) and self.until.data < dt.date.max
            else None,
        )
