"""HTTP errors answered in the language of their audience, wherever they are decided.

A path no route matches, a method no view takes or a body over ``MAX_CONTENT_LENGTH``
reaches no blueprint's own error handlers, since no blueprint has been chosen. The path
tells the audience apart: the citizen pages answer with their Chinese page, the API with
its JSON error shape, the SMS provider's webhooks keep Flask's own response (a machine
reads it), and every other path is a staff page, answered with a short Chinese page in
the staff layout. A staff view that knows why it refuses raises :class:`StaffError` with
the reason; anything else gets the page's standard wording for its status.
"""

from __future__ import annotations

import math

from flask import Blueprint, Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.api.views import bp as api_bp
from webapp.api.views import error_for as api_error
from webapp.citizen.views import bp as citizen_bp
from webapp.citizen.views import error_page as citizen_error
from webapp.sms_webhooks.views import bp as sms_webhooks_bp

#: Title and explanation of each status on the staff error page.
STAFF_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("请求有误", "这个请求无法处理，请检查链接或填写的内容后重试。"),
    401: ("请先登录", "请登录后再访问这个页面。"),
    403: ("没有权限", "您的账号没有访问这个页面的权限。"),
    404: ("页面不存在", "页面不存在，或不在您的权限范围内。"),
    405: ("不支持该操作", "这个页面不接受这种请求，请从系统内的链接或按钮进入。"),
    413: ("内容太大", "提交的内容超过了允许的大小，请缩小文件后重试。"),
    429: ("操作太频繁", "操作太频繁，请稍等一两分钟后再试。"),
}
OTHER_CLIENT_ERROR = ("无法处理这个请求", "这个请求无法处理，请返回上一页重试。")
CSRF_EXPIRED = "页面已过期或来源无法验证，请刷新页面后重新提交。"


class StaffError(HTTPException):
    """A staff view's refusal with its reason in Chinese, shown as is on the error page."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(description=reason)
        self.code = code
        self.reason = reason


def init_app(app: Flask) -> None:
    """Register the one app-wide handler for HTTP errors."""
    app.register_error_handler(HTTPException, _by_audience)


def _under(blueprint: Blueprint) -> bool:
    prefix = blueprint.url_prefix or ""
    return bool(prefix) and (request.path == prefix or request.path.startswith(prefix + "/"))


def _by_audience(exc: HTTPException) -> ResponseReturnValue | HTTPException:
    if exc.code is None:
        return exc
    if _under(api_bp):
        return api_error(exc)
    if _under(citizen_bp):
        return citizen_error(exc)
    if _under(sms_webhooks_bp):
        return exc
    return staff_error_page(exc)


def _rate_limited(exc: RateLimitExceeded) -> str:
    """Why (the limit's own reason, if it has one) and how long to wait: its window."""
    reason = exc.limit.error_message if isinstance(exc.limit.error_message, str) else "操作太频繁"
    minutes = max(1, math.ceil(exc.limit.limit.get_expiry() / 60))
    return f"{reason}，请 {minutes} 分钟后再试。"


def staff_error_page(exc: HTTPException) -> ResponseReturnValue | HTTPException:
    """The Chinese staff page for a client error (4xx); server errors keep Flask's response.

    A server error may come from the database or the templates themselves, which the
    staff layout needs (it shows the logged-in user), so it is not rendered with them.
    """
    code = exc.code or 500
    if not 400 <= code < 500:
        return exc
    title, message = STAFF_MESSAGES.get(code, OTHER_CLIENT_ERROR)
    if isinstance(exc, StaffError):
        message = exc.reason
    elif isinstance(exc, CSRFError):
        message = CSRF_EXPIRED
    elif isinstance(exc, RateLimitExceeded):
        message = _rate_limited(exc)
    headers = dict(exc.get_headers())  # Allow, for a 405
    headers.pop("Content-Type", None)
    return render_template("errors/staff.html", code=code, title=title, message=message), code, headers
