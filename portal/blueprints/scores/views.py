"""Score pages: the quarter's ranking of outlets and sub-branches (service office), an outlet's
own score page (its outlet manager), and their .xlsx downloads.

Who sees what: the service office sees every outlet and sub-branch of its subtree. An outlet
manager sees only their own outlet's page: the three checks, the complaints counted, the score
and the outlet's rank among the outlets of its sub-branch (a position and a count, never another
outlet's scores). Tellers, lobby managers and admins get 403.
"""
from decimal import Decimal

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user

from ...errors import render_error
from ...models import MANAGER, OFFICE, OrgUnit, unit_by_code
from ...nav import register_nav
from ...periods import BadPeriod, Period
from ...permissions import in_scope, role_required, scope_unit
from ...templating import localtime
from ...timeutil import local_today
from ...xlsx import xlsx_response
from . import bp, services
from . import recording  # noqa: F401  (routes register)
from .forms import score_text

register_nav("scores.index", _l("网点考核"), (MANAGER, OFFICE), order=22)

QUARTER_MESSAGE = _l("请按 YYYYQn 选择季度,如 2026Q3(2000 至 2100 年)。")
FINDING_LABELS = {"upheld": _l("属实"), "partly": _l("部分属实")}
LEVEL_LABELS = {"outlet": _l("网点"), "branch": _l("分行及以上"), "media": _l("媒体")}


def quarter_or_none() -> Period | None:
    """The quarter asked for (the current one when none is), or None when malformed."""
    try:
        return services.quarter_from(request.args.get("quarter"), local_today())
    except BadPeriod:
        return None


def quarter_context(period: Period | None) -> dict:
    choices = services.recent_quarters(local_today())
    return {"quarter": period, "quarters": choices, "quarter_error": None if period else
            QUARTER_MESSAGE}


def points(value) -> str:
    """A score or deduction as shown: two decimals at most, trailing zeros dropped; — for none."""
    if value is None:
        return "—"
    text = f"{services.cents(Decimal(value)):.2f}".rstrip("0").rstrip(".")
    return text.replace("-", "\u2212") if text != "-0" else "0"


@bp.app_template_global()
def score_tools() -> dict:
    """The helpers the score templates use."""
    return {"points": points, "check": lambda v: score_text(v) if v is not None else "—",
            "findings": FINDING_LABELS, "levels": LEVEL_LABELS}


# --- the ranking (service office) ---------------------------------------------------------------

def ranking(period: Period) -> tuple[list, list]:
    """The outlets and sub-branches of the viewer's subtree, each ranked (five queries)."""
    scope = scope_unit(current_user)
    outlets = services.outlet_results(services.units_in(scope, "outlet"), period)
    subbranches = services.subbranch_results(services.units_in(scope, "subbranch"), outlets,
                                             period.label)
    return outlets, subbranches


OUTLET_HEADER = (_l("排名"), _l("网点代码"), _l("网点"), _l("神秘人暗访"), _l("非现场监控检查"),
                 _l("现场明查"), _l("属实投诉(网点)"), _l("属实投诉(分行/媒体)"), _l("投诉扣分"),
                 _l("得分"))
SUBBRANCH_HEADER = (_l("排名"), _l("支行代码"), _l("支行"), _l("网点数"), _l("有得分的网点"),
                    _l("网点平均分"), _l("管理考核得分"), _l("创新加分"), _l("外部获奖加分"),
                    _l("得分"))


def _number(value):
    return None if value is None else float(value)


def outlet_cells(r: services.OutletResult) -> list:
    return [r.rank, r.outlet.code, r.outlet.name, _number(r.mystery), _number(r.offsite),
            _number(r.onsite), r.upheld, r.escalated, float(r.deduction), _number(r.score)]


def subbranch_cells(r: services.SubbranchResult) -> list:
    return [r.rank, r.unit.code, r.unit.name, r.outlets, r.scored,
            _number(services.cents(r.average)) if r.average is not None else None,
            _number(r.management), float(r.innovation), float(r.award), _number(r.score)]


@bp.get("/")
@role_required(MANAGER, OFFICE)
def index():
    """网点考核: the quarter's ranking of outlets and sub-branches; .xlsx. Managers go to their
    own outlet's page."""
    period = quarter_or_none()
    if current_user.role == MANAGER:
        args = {"quarter": period.label} if period and request.args.get("quarter") else {}
        return redirect(url_for("scores.outlet", outlet_code=current_user.org_unit.code, **args))
    if period is None:
        if request.args.get("format") == "xlsx":
            return render_error(400, QUARTER_MESSAGE)
        return render_template("scores/index.html", **quarter_context(None)), 400
    outlets, subbranches = ranking(period)
    if request.args.get("format") == "xlsx":
        return xlsx_response(gettext("网点考核-%(quarter)s.xlsx", quarter=period.label), [
            (gettext("网点排名"), [str(h) for h in OUTLET_HEADER], [outlet_cells(r) for r in outlets]),
            (gettext("支行得分"), [str(h) for h in SUBBRANCH_HEADER],
             [subbranch_cells(r) for r in subbranches])])
    return render_template("scores/index.html", outlets=outlets, subbranches=subbranches,
                           amounts=services.deduction_settings(), **quarter_context(period))


# --- one outlet ---------------------------------------------------------------------------------

def outlet_or_404(code: str) -> OrgUnit:
    """The outlet ``code`` if the viewer may see its score: the office in its subtree, an outlet
    manager only their own; anything else (or no outlet) is 404."""
    unit = unit_by_code(code.strip().upper()) if len(code) <= 20 else None
    if unit is None or unit.kind != "outlet" or not in_scope(current_user, unit):
        abort(404)
    if current_user.role == MANAGER and unit.id != current_user.org_unit_id:
        abort(404)
    return unit


def place_among_siblings(outlet: OrgUnit, period: Period,
                         amounts: services.Deduction) -> tuple[int | None, int]:
    """The outlet's rank among the outlets of its sub-branch (its parent unit), and how many
    outlets that are; only the position is shown, never the others' scores."""
    parent = outlet.parent or outlet
    results = services.outlet_results(services.units_in(parent, "outlet"), period, amounts)
    mine = next((r for r in results if r.outlet.id == outlet.id), None)
    return (mine.rank if mine else None), len(results)


COMPLAINT_HEADER = (_l("投诉编号"), _l("受理时间"), _l("调查结论"), _l("投诉层级"), _l("扣分"))


@bp.get("/outlets/<outlet_code>")
@role_required(MANAGER, OFFICE)
def outlet(outlet_code: str):
    """An outlet's quarter: the checks, the complaints counted and the score; .xlsx."""
    unit, period = outlet_or_404(outlet_code), quarter_or_none()
    if period is None:
        if request.args.get("format") == "xlsx":
            return render_error(400, QUARTER_MESSAGE)
        return render_template("scores/outlet.html", unit=unit, **quarter_context(None)), 400
    amounts = services.deduction_settings()
    result = services.outlet_results([unit], period, amounts)[0]
    complaints = services.counted_complaints(unit, period)
    rank, among = place_among_siblings(unit, period, amounts)

    def cost(complaint):
        return (amounts.per_escalated if complaint.level in services.ESCALATED_LEVELS
                else amounts.per_complaint)

    if request.args.get("format") == "xlsx":
        summary = [[rank, *outlet_cells(result)[1:]]]
        rows = [[c.ticket, localtime(c.received_at), str(FINDING_LABELS[c.finding]),
                 str(LEVEL_LABELS[c.level]), float(cost(c))] for c in complaints]
        return xlsx_response(
            gettext("网点考核-%(outlet)s-%(quarter)s.xlsx", outlet=unit.code, quarter=period.label),
            [(gettext("得分"), [str(h) for h in OUTLET_HEADER], summary),
             (gettext("计入的投诉"), [str(h) for h in COMPLAINT_HEADER], rows)])
    return render_template("scores/outlet.html", unit=unit, result=result, amounts=amounts,
                           complaints=[(c, cost(c)) for c in complaints], rank=rank,
                           among=among, **quarter_context(period))
