"""The login form."""

from __future__ import annotations

from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webapp.forms import StaffForm


class LoginForm(StaffForm):
    """Username and password; CSRF-protected like every form."""

    username = StringField(
        "用户名", validators=[DataRequired("请输入用户名"), Length(max=64, message="用户名不能超过 64 个字")]
    )
    password = PasswordField(
        "密码", validators=[DataRequired("请输入密码"), Length(max=128, message="密码不能超过 128 个字")]
    )
