"""The base of every staff form: WTForms' own messages in Chinese."""

from __future__ import annotations

from flask_wtf import FlaskForm


class StaffForm(FlaskForm):
    """A Flask-WTF form whose built-in messages (不是有效的整数 …) come in Chinese.

    WTForms ships a Simplified Chinese catalogue; Flask-WTF only reads catalogues through
    Flask-Babel, which Minyi does not use, so ``WTF_I18N_ENABLED`` is off (webapp/config.py)
    and the form asks WTForms for its ``zh`` messages itself.
    """

    class Meta:
        """WTForms' form options: its Simplified Chinese catalogue."""

        locales = ("zh",)
