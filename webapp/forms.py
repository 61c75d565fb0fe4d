"""The bases of the staff forms: WTForms' own messages in Chinese, and filters read from a query string."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, Form, SelectField
from wtforms.validators import ValidationError

from surveys.text import NOT_ONE_LINE

#: Indents a unit under its parent in a select's options (a full-width space per level).
INDENT = "\u3000"


def strip(value: str | None) -> str:
    """A text field's filter: the blanks around what was typed are not part of it."""
    return (value or "").strip()


class OneLine:
    """Refuse control characters in a one-line field: nothing to look for, and PostgreSQL refuses a NUL outright."""

    def __init__(self, what: str) -> None:
        """``what`` names the field in the message (搜索内容含有…)."""
        self.message = f"{what}含有不可见的控制字符"

    def __call__(self, form: Form, field: Field) -> None:
        """Raise if ``field`` holds a control character."""
        if NOT_ONE_LINE.search(field.data or ""):
            raise ValidationError(self.message)


class StaffForm(FlaskForm):
    """A Flask-WTF form whose built-in messages (不是有效的整数 …) come in Chinese.

    WTForms ships a Simplified Chinese catalogue; Flask-WTF only reads catalogues through
    Flask-Babel, which Minyi does not use, so ``WTF_I18N_ENABLED`` is off (webapp/config.py)
    and the form asks WTForms for its ``zh`` messages itself.
    """

    class Meta:
        """WTForms' form options: its Simplified Chinese catalogue."""

        locales = ("zh",)


class FilterForm(StaffForm):
    """Filters of a list, read from the query string: a filtered list is a link to keep.

    A GET changes nothing, so there is no CSRF token. A value that is not valid is
    reported beside its field and that filter is left out; the others still apply.
    """

    class Meta:
        """No CSRF token: a GET form that only reads."""

        csrf = False

    def applies(self, field: Field) -> bool:
        """Whether ``field`` was given and is valid, so its filter applies."""
        return bool(field.data) and not field.errors

    def query_args(self) -> dict[str, str]:
        """The filters that apply as query-string arguments, for links to other pages of the same list."""
        return {
            field.name: "y" if isinstance(field, BooleanField) else str(field.data)
            for field in self
            if self.applies(field)
        }

    def active_labels(self) -> list[str]:
        """The filters that apply, as a user reads them (紧急, 只看已超期 …)."""
        labels = []
        for field in self:
            if not self.applies(field):
                continue
            if isinstance(field, SelectField):
                chosen = next(choice for choice in field.choices if choice.value == field.data)
                labels.append(chosen.label.lstrip(INDENT))
            elif isinstance(field, BooleanField):
                labels.append(str(field.label.text))
            else:
                labels.append(f"{field.label.text}：{field.data}")
        return labels
