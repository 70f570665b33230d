"""Complaint measures per outlet and period (万笔投诉量, on-time, first contact, upheld,
callback satisfaction), on a page and as .xlsx."""
from flask import abort, render_template, request
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...models import MANAGER, OFFICE, OrgUnit
from ...nav import register_nav
from ...periods import BadPeriod, Period, month_of, parse
from ...permissions import role_required, scope_unit
from ...timeutil import local_today, utcnow
from ...xlsx import xlsx_response
from ..ratings.services import number, percent
from . import bp, services

register_nav("complaints.measures", _l("投诉指标"), (MANAGER, OFFICE), order=21)


def _outlets() -> list[OrgUnit]:
    if current_user.role == MANAGER:
        return [current_user.org_unit]
    return list(db.session.scalars(
        select(OrgUnit).where(OrgUnit.kind == "outlet",
                              OrgUnit.path.startswith(scope_unit(current_user).path,
                                                      autoescape=True))
        .order_by(OrgUnit.code)))


def _period() -> Period:
    text = request.args.get("period")
    if not text:
        return month_of(local_today())
    try:
        return parse(text)
    except BadPeriod:
        abort(400)


def _rows(period: Period) -> list[dict]:
    outlets = _outlets()
    measures = services.outlet_measures(outlets, period, utcnow())
    return [{"outlet": outlet, "m": measures[outlet.id]} for outlet in outlets]


HEADER = (_l("网点代码"), _l("网点"), _l("投诉量"), _l("业务笔数"), _l("万笔投诉量"),
          _l("响应及时率"), _l("办结及时率"), _l("首问办结率"), _l("属实率"), _l("回访满意率"))


def cells(row: dict) -> list:
    m = row["m"]
    return [row["outlet"].code, row["outlet"].name, m.complaints, m.transactions,
            number(m.per_10k), percent(m.response_rate), percent(m.decision_rate),
            percent(m.first_contact_rate), percent(m.upheld_rate), percent(m.satisfaction_rate)]


@bp.get("/measures")
@role_required(MANAGER, OFFICE)
def measures():
    """The outlet's (or, for the service office, every outlet's) measures for a month or quarter."""
    period = _period()
    rows = _rows(period)
    if request.args.get("format") == "xlsx":
        return xlsx_response(gettext("投诉指标-%(period)s.xlsx", period=period.label),
                             [(period.label, list(HEADER), [cells(row) for row in rows])])
    return render_template("complaints/measures.html", period=period, header=HEADER,
                           rows=[cells(row) for row in rows])
