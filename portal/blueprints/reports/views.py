"""Routes: the monthly notice (月度通报) of an outlet, as a printable page and as .xlsx.

Outlet managers read their own outlet's notice, the service office any outlet of its subtree.
Lobby managers do not: the notice lists every person's points entries and balances, which a
lobby manager may not see for anyone but themselves (SPEC 1; the ledger's outlet page is the
managers' and the office's only). Tellers and admins have no outlet reports.
"""
from flask import render_template, request
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user

from ...errors import render_error
from ...models import MANAGER, OFFICE
from ...nav import register_nav
from ...permissions import outlet_scope, role_required
from ...timeutil import local_today, utcnow
from ...xlsx import xlsx_response
from ..ratings.services import number
from . import bp, services

READERS = (MANAGER, OFFICE)

register_nav("reports.notice", _l("月度通报"), READERS, order=30)


def _cell(value) -> str:
    """A table value as the page shows it (numbers without needless decimals, − for minus)."""
    if isinstance(value, float):
        return number(value, 2)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else str(value)


@bp.get("/notice")
@role_required(*READERS)
def notice():
    """月度通报: the outlet's month in points, ratings, complaints, checklist and honours."""
    scope, today = outlet_scope(), local_today()
    text = request.args.get("month", "")
    try:
        month = services.notice_month(text, today)
    except services.BadMonth as error:
        return render_template("reports/notice.html", scope=scope, notice=None,
                               month_text=text[:20], month_error=error.message), 400
    found = services.notice(scope.outlet, month, today, utcnow())
    return render_template("reports/notice.html", scope=scope, notice=found,
                           month_text=month.label, cell=_cell, viewer=current_user)


@bp.get("/notice.xlsx")
@role_required(*READERS)
def notice_xlsx():
    """The same notice as .xlsx, one sheet per table."""
    scope, today = outlet_scope(), local_today()
    try:
        month = services.notice_month(request.args.get("month", ""), today)
    except services.BadMonth as error:
        return render_error(400, error.message)
    found = services.notice(scope.outlet, month, today, utcnow())
    return xlsx_response(gettext("月度通报-%(outlet)s-%(month)s.xlsx", outlet=scope.outlet.code,
                                 month=month.label), found.sheets())
