"""The checklist history of an outlet: a month calendar of signed, partly done and missed days
with each day's pass rate, the month's most failed items, and the same as .xlsx."""
import calendar
from datetime import date, timedelta
from typing import NamedTuple

from flask import current_app, render_template, request
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user

from ...models import LOBBY, MANAGER, OFFICE, OrgUnit
from ...nav import register_nav
from ...periods import Period, month_of, parse
from ...permissions import OutletScope, outlet_scope, role_required
from ...timeutil import local_today
from ...xlsx import xlsx_response
from ..ratings.services import percent
from . import bp, services
from .models import ITEMS

VIEWERS = (LOBBY, MANAGER, OFFICE)
TICKERS = (LOBBY, MANAGER)  # who opens today's sheet by looking at it
FIRST_YEAR, LAST_YEAR = 2000, 2099
MONTH_MESSAGE = _l("请按 YYYY-MM 格式填写 2000–2099 年的月份,如 2026-10。")
#: what a calendar day shows, by kind: text (never colour alone) and a mark for the eye
KINDS = {
    "signed": (_l("已提交"), "✓"), "partial": (_l("部分完成"), "◐"), "missed": (_l("漏检"), "✗"),
    "progress": (_l("进行中"), "…"), "none": (_l("未开始"), "○"),
}
WEEKDAYS = (_l("周一"), _l("周二"), _l("周三"), _l("周四"), _l("周五"), _l("周六"), _l("周日"))

register_nav("checklist.history", _l("检查记录"), VIEWERS, order=15)




def parse_month(text: str | None, today: date) -> Period | None:
    """The month asked for (the current one when none), or None when the text is no month."""
    text = (text or "").strip()
    if not text:
        return month_of(today)
    try:
        month = parse(text)
    except ValueError:  # BadPeriod, or a day out of the calendar's range
        return None
    if "Q" in month.label or not FIRST_YEAR <= month.start.year <= LAST_YEAR:
        return None
    return month


def kind(figures: services.DayFigures) -> str:
    """Which of KINDS a day shows: today in progress is told apart from today not started."""
    if figures.status == "open":
        return "progress" if figures.checked else "none"
    return "none" if figures.status == "future" else figures.status


class Day(NamedTuple):
    figures: services.DayFigures
    kind: str
    link: bool  # a sheet to look at (the day's page answers 404 without one)


def _days(outlet: OrgUnit, month: Period, today: date) -> list[Day]:
    linkable = "checklist.day" in current_app.view_functions
    opens_today = current_user.role in TICKERS
    return [Day(figures, kind(figures), linkable and (
        figures.checked > 0 or figures.status == "signed"
        or (figures.day == today and opens_today)))
        for figures in services.month_figures(outlet, month, today)]


def _weeks(month: Period, days: list[Day]) -> list[list[Day | None]]:
    """The month as calendar rows, Monday first; None for days of the months around it."""
    by_day = {day.figures.day: day for day in days}
    return [[by_day.get(day) for day in week] for week in
            calendar.Calendar().monthdatescalendar(month.start.year, month.start.month)]


def _neighbours(month: Period) -> tuple[Period | None, Period | None]:
    before = month_of(month.start - timedelta(days=1))
    after = month_of(month.end + timedelta(days=1))
    return (before if before.start.year >= FIRST_YEAR else None,
            after if after.start.year <= LAST_YEAR else None)


DAY_HEADER = (_l("日期"), _l("状态"), _l("已检查"), _l("合格"), _l("不合格"), _l("合格率"))
FAILED_HEADER = (_l("排名"), _l("序号"), _l("检查内容"), _l("不合格次数"))


def _xlsx(scope: OutletScope, month: Period, days: list[Day], failed: list):
    day_rows = [[d.figures.day, str(KINDS[d.kind][0]), d.figures.checked, d.figures.passed,
                 d.figures.problems, percent(d.figures.pass_rate)] for d in days]
    failed_rows = [[rank, number, text, count]
                   for rank, (number, text, count) in enumerate(failed, 1)]
    return xlsx_response(
        gettext("检查记录-%(outlet)s-%(month)s.xlsx", outlet=scope.outlet.code, month=month.label),
        [(gettext("每日检查 %(month)s", month=month.label), list(DAY_HEADER), day_rows),
         (gettext("不合格最多的项目"), list(FAILED_HEADER), failed_rows)])


def _summary(days: list[Day]) -> dict:
    passed = sum(d.figures.passed for d in days)
    problems = sum(d.figures.problems for d in days)
    counts = {name: sum(d.kind == name for d in days) for name in KINDS}
    return {"counts": counts, "rate": services.pass_rate(passed, problems)}


@bp.get("/history")
@role_required(*VIEWERS)
def history():
    """An outlet's month: calendar of days with status and pass rate, most failed items."""
    scope, today = outlet_scope(), local_today()
    month = parse_month(request.args.get("month"), today)
    if month is None:
        return render_template("checklist/history.html", scope=scope, month=None,
                               month_text=request.args.get("month", "")[:20],
                               month_error=MONTH_MESSAGE), 400
    days = _days(scope.outlet, month, today)
    failed = services.failed_items(scope.outlet, month)
    if request.args.get("format") == "xlsx":
        return _xlsx(scope, month, days, failed)
    before, after = _neighbours(month)
    return render_template(
        "checklist/history.html", scope=scope, month=month, month_text=month.label,
        weeks=_weeks(month, days), weekdays=WEEKDAYS, kinds=KINDS, failed=failed,
        summary=_summary(days), before=before, after=after, today=today, items=ITEMS,
        percent=percent)
