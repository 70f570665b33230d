"""Template filters and globals: local time, navigation, permission helpers."""
from datetime import datetime

from flask import Flask
from flask_babel import get_locale

from . import permissions
from .nav import is_current, nav_for
from .timeutil import to_local


def localtime(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format a stored UTC moment in Asia/Shanghai local time."""
    return to_local(moment).strftime(fmt) if moment else "—"


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_global(nav_for)
    app.add_template_global(is_current)
    app.add_template_global(permissions.can_manage_accounts, "can_manage_accounts")
    app.add_template_global(lambda: str(get_locale() or "zh_CN"), "current_locale")
