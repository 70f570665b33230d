"""One error renderer for every status: a Chinese page for people, JSON for the API."""
import logging

from flask import Blueprint, Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .database import is_transient
from .extensions import db
from .security import log_security

logger = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("请求有误"), _l("提交的内容无法处理,请返回后重试。")),
    401: (_l("需要登录"), _l("请先登录。")),
    403: (_l("无权访问"), _l("您的角色无权访问此页面。")),
    404: (_l("未找到"), _l("您要找的页面不存在,或不在您的查看范围内。")),
    405: (_l("请求方式不支持"), _l("此页面不支持该操作。")),
    409: (_l("操作冲突"), _l("该记录刚被其他人修改,请刷新后重试。")),
    413: (_l("内容过大"), _l("上传的内容超过了允许的大小。")),
    429: (_l("操作过于频繁"), _l("操作过于频繁,请稍后再试。")),
    500: (_l("系统出错"), _l("系统暂时出现问题,已记录,请稍后再试。")),
    503: (_l("系统繁忙"), _l("系统正忙,请稍候片刻再试。")),
}


class DomainError(Exception):
    """A rule of the programme refused an action; ``field`` names the form field to blame."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field

    status = 400


class Conflict(DomainError):
    """Someone else changed the same thing first (answered 409)."""

    status = 409


class TooMany(DomainError):
    """Too many attempts in a short time (answered 429)."""

    status = 429


def render_error(code: int, message=None, headers=None):
    """Answer ``code`` as JSON under /api/, as a page elsewhere."""
    title, default = MESSAGES.get(code, MESSAGES[500])
    text = str(message or default)
    if request.path.startswith("/api/"):
        response = jsonify(error=text)
    else:
        response = render_template("errors.html", code=code, title=title, message=text)
    response = (response, code, headers or {})
    return response


def public_error_pages(bp: Blueprint, endpoints: tuple[str, ...], page, expired) -> None:
    """Answer a burst (429) or a stale form (CSRF) on ``bp``'s customer pages ``endpoints`` with
    ``page(status, title, message)`` in the customer's style; staff pages keep the usual ones.
    ``expired`` tells the customer what to do once the page went stale."""

    @bp.errorhandler(429)
    def too_many(error):
        log_security("rate_limited", path=request.path)
        if request.endpoint not in endpoints:
            return render_error(429, headers={"Retry-After": "60"})
        response = page(429, _l("提交过于频繁"), _l("提交过于频繁,请稍后再试。"))
        response.headers["Retry-After"] = "60"
        return response

    @bp.errorhandler(CSRFError)
    def csrf_refused(error):
        log_security("csrf_failed", reason=error.description)
        if request.endpoint not in endpoints:
            return render_error(400, _l("页面已过期或来源无法验证,请刷新页面后重新提交。"))
        return page(400, _l("页面已过期"), expired)


def register_error_handlers(app: Flask) -> None:
    """Send every HTTP error and unexpected exception through ``render_error``."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        log_security("csrf_failed", reason=error.description)
        return render_error(400, _l("页面已过期或来源无法验证,请刷新页面后重新提交。"))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 429:
            log_security("rate_limited", path=request.path)
        if error.code in (403,):
            log_security("denied", path=request.path)
        headers = {"Retry-After": "60"} if error.code == 429 else None
        if error.code not in MESSAGES:
            return error
        return render_error(error.code, headers=headers)

    @app.errorhandler(OperationalError)
    def database_error(error):
        db.session.rollback()
        if is_transient(error):
            logger.warning("database busy: %s", error.orig)
            return render_error(503, headers={"Retry-After": "5"})
        logger.exception("database error")
        return render_error(500)

    @app.errorhandler(Exception)
    def unexpected(error):
        db.session.rollback()
        logger.exception("unhandled error on %s", request.path)
        return render_error(500)
