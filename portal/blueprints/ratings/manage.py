"""The outlet's ratings for its managers and the service office: the teller table, low-rating
alerts, appeals, quarterly levels, the monthly R15 check and the star-level table."""
from datetime import timedelta

from flask import abort, current_app, flash, make_response, redirect, render_template, request
from flask import url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, func, select

from ...errors import DomainError, render_error
from ...extensions import db
from ...models import LOBBY, MANAGER, OFFICE, TELLER, OrgUnit, Person
from ...nav import register_nav
from ...panels import register_panel
from ...periods import Period, month_of, previous_month, quarter_of
from ...permissions import OutletScope, outlet_scope, role_required
from ...proposals import PointsProposal
from ...security import passive
from ...timeutil import local_today, to_local, utcnow
from ...xlsx import xlsx_response
from ..admin.queries import page_number
from . import bp, services
from .dashboard import CHANNELS, figures, level_gap, level_text, star_level_name
from .manage_forms import (ConfirmLevelForm, DecideForm, MonthForm, MonthlyCheckForm, QuarterForm,
                           ThresholdsForm, blame)
from .models import Rating, RatingReview

VIEWERS = (LOBBY, MANAGER, OFFICE)  # the lobby manager and the service office only look
ALERT_DAYS = 30
PROPOSAL_STATUS = {"proposed": _l("待确认"), "confirmed": _l("已确认"), "dismissed": _l("已驳回")}
DECISIONS = {"exclude": _l("已排除(恶意评价)"), "keep": _l("维持")}

register_nav("ratings.outlet", _l("网点评价"), VIEWERS, order=12)
register_nav("ratings.thresholds", _l("星级标准"), (OFFICE,), order=40)


def _render(template: str, scope: OutletScope, status: int = 200, **context):
    return render_template(template, outlet=scope.outlet, outlets=scope.outlets,
                           scope_args=scope.args, can_decide=current_user.role == MANAGER,
                           **context), status


def _page(name: str = "page") -> dict:
    return {"page": page_number(request.args.get(name, type=int)),
            "per_page": current_app.config["PAGE_SIZE"], "error_out": False}


def _tellers(outlet: OrgUnit) -> list[Person]:
    return list(db.session.scalars(
        select(Person).where(Person.org_unit_id == outlet.id, Person.role == TELLER,
                             Person.active.is_(True)).order_by(Person.work_no)))


def _outlet_teller_or_404(person_id: int) -> Person:
    """A teller of the signed-in manager's outlet; anyone else (or an unknown id) is 404."""
    person = db.session.get(Person, person_id)
    if person is None or person.role != TELLER or person.org_unit_id != current_user.org_unit_id:
        abort(404)
    return person


def _since():
    return local_today() - timedelta(days=ALERT_DAYS)


def _previous_quarter() -> Period:
    return quarter_of(quarter_of(local_today()).start - timedelta(days=1))


def _names(person_ids) -> dict[int, str]:
    ids = [pid for pid in person_ids if pid]
    if not ids:
        return {}
    return dict(db.session.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all())


def _when(moment) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


# --- the teller table ------------------------------------------------------------------------

def outlet_rows(outlet: OrgUnit, month: Period) -> list[dict]:
    """Per active teller: month and quarter measures, projected and confirmed quarter level."""
    quarter = quarter_of(month.start)
    tellers = _tellers(outlet)
    ids = [teller.id for teller in tellers]
    both = services.measures_over(ids, [month, quarter])
    by_month, by_quarter = both[month.label], both[quarter.label]
    confirmed = services.confirmed_levels(ids, quarter.label)
    rows = services.thresholds()
    return [{"teller": teller, "month": figures(by_month[teller.id]),
             "quarter": figures(by_quarter[teller.id]),
             "projected": services.star_level(by_quarter[teller.id], rows),
             "confirmed": getattr(confirmed.get(teller.id), "confirmed", None)}
            for teller in tellers]


FIGURE_KEYS = ("ratings", "average", "satisfaction", "evaluation", "on", "upheld")
FIGURE_NAMES = ("评价数", "平均星级", "满意率", "评价率", "开机率", "属实投诉")
OUTLET_HEADER = (["工号", "姓名"] + [f"本月{name}" for name in FIGURE_NAMES]
                 + [f"本季度{name}" for name in FIGURE_NAMES] + ["预计星级", "已评定星级"])


def _outlet_line(row: dict) -> list:
    figures_of = [row[period][key] for period in ("month", "quarter") for key in FIGURE_KEYS]
    return ([row["teller"].work_no, row["teller"].name] + figures_of
            + [level_text(row["projected"]), level_text(row["confirmed"])])


def _chosen_month(form: MonthForm) -> Period:
    return form.period(month_of(local_today()))


@bp.get("/ratings/outlet")
@role_required(*VIEWERS)
def outlet():
    """Show each teller's measures and levels for a month (default: the current one)."""
    scope, form = outlet_scope(), MonthForm(request.args)
    if not form.validate():
        return _render("ratings/outlet.html", scope, 400, form=form, rows=None)
    month = _chosen_month(form)
    return _render("ratings/outlet.html", scope, form=form, month=month,
                   quarter=quarter_of(month.start), rows=outlet_rows(scope.outlet, month))


@bp.get("/ratings/outlet.xlsx")
@role_required(*VIEWERS)
def outlet_xlsx():
    """Download the teller table of a month as .xlsx."""
    scope, form = outlet_scope(), MonthForm(request.args)
    if not form.validate():
        return render_error(400, " ".join(str(error) for error in form.month.errors))
    month = _chosen_month(form)
    lines = [_outlet_line(row) for row in outlet_rows(scope.outlet, month)]
    return xlsx_response(f"网点评价-{scope.outlet.code}-{month.label}.xlsx",
                         [(f"网点评价 {month.label}", OUTLET_HEADER, lines)])


# --- low-rating alerts and appeals ----------------------------------------------------------------

def _review_info(ratings: list[Rating]) -> dict[int, dict]:
    """Per rating: its review state, the teller's appeal and the manager's decision (one query)."""
    reviews = services.reviews_for([rating.id for rating in ratings])
    return {rating.id: {
        "state": services.review_state(reviews[rating.id]),
        "appeal": next((r for r in reviews[rating.id] if r.action == "appeal"), None),
        "decision": next((r for r in reviews[rating.id] if r.action in DECISIONS), None),
    } for rating in ratings}


def _alerts_page(scope: OutletScope, failed=None, status: int = 200):
    found = db.paginate(services.low_rating_alerts(scope.outlet, _since()), **_page())
    return _render("ratings/alerts.html", scope, status, pagination=found, failed=failed,
                   reviews=_review_info(found.items), since=_since(), channels=CHANNELS,
                   can_convert=current_user.role == MANAGER)


def _decided(outlet: OrgUnit):
    """The outlet's ratings with a manager's decision, latest decision first."""
    decision = and_(RatingReview.rating_id == Rating.id, RatingReview.action.in_(tuple(DECISIONS)))
    return (select(Rating).join(RatingReview, decision).where(Rating.outlet_id == outlet.id)
            .order_by(RatingReview.at.desc(), Rating.id.desc()))


def _appeals_page(scope: OutletScope, failed=None, status: int = 200):
    pending = db.paginate(services.pending_appeals(scope.outlet), **_page())
    decided = db.paginate(_decided(scope.outlet), **_page("done"))
    return _render("ratings/appeals.html", scope, status, pending=pending, decided=decided,
                   reviews=_review_info(pending.items + decided.items), failed=failed,
                   decisions=DECISIONS)


RATING_HEADER = ["评价时间", "工号", "姓名", "星级", "标签", "留言", "渠道"]


def _rating_line(rating: Rating) -> list:
    return [_when(rating.rated_at), rating.person.work_no, rating.person.name, rating.stars,
            "、".join(rating.tag_list), rating.comment, str(CHANNELS.get(rating.channel, ""))]


@bp.get("/ratings/alerts")
@role_required(*VIEWERS)
def alerts():
    """List the outlet's unacknowledged 1–2 star ratings of the last 30 days."""
    return _alerts_page(outlet_scope())


@bp.get("/ratings/alerts.xlsx")
@role_required(*VIEWERS)
def alerts_xlsx():
    """Download the outlet's open low-rating alerts as .xlsx."""
    scope = outlet_scope()
    found = db.session.scalars(services.low_rating_alerts(scope.outlet, _since())).all()
    return xlsx_response(f"差评提醒-{scope.outlet.code}.xlsx",
                         [("差评提醒", RATING_HEADER, [_rating_line(r) for r in found])])


@bp.get("/ratings/alerts/badge")
@passive
@role_required(MANAGER)
def alert_badge():
    """Answer only the low-rating badge (the manager's home page polls it every 30 s)."""
    count = services.alert_count(current_user.org_unit, _since())
    response = make_response(render_template("ratings/_badge.html", count=count))
    response.vary.add("HX-Request")
    return response


@bp.post("/ratings/<int:rating_id>/seen")
@role_required(MANAGER)
def rating_seen(rating_id: int):
    """Acknowledge a low-rating alert (已知悉) so it leaves the badge."""
    services.mark_seen(current_user, services.get_rating_or_404(rating_id, current_user))
    flash(gettext("已知悉,该条差评已移出提醒。"), "success")
    return redirect(url_for("ratings.alerts"), 303)


@bp.post("/ratings/<int:rating_id>/decide")
@role_required(MANAGER)
def rating_decide(rating_id: int):
    """Exclude a rating as malicious (恶意评价) or keep it, with a reason."""
    rating = services.get_rating_or_404(rating_id, current_user)
    form, status = DecideForm(), 400
    if form.validate_on_submit():
        try:
            services.decide(current_user, rating, form.decision.data == "exclude",
                            form.reason.data)
        except DomainError as error:
            blame(form, error)
            status = error.status
        else:
            flash(gettext("已处理:%(decision)s。", decision=DECISIONS[form.decision.data]),
                  "success")
            return redirect(url_for(f"ratings.{form.back_to}"), 303)
    page = _appeals_page if form.back_to == "appeals" else _alerts_page
    return page(outlet_scope(), failed=(rating.id, form), status=status)


@bp.get("/ratings/appeals")
@role_required(*VIEWERS)
def appeals():
    """List the appeals waiting for the manager's decision, and the decisions already made."""
    return _appeals_page(outlet_scope())


def _appeal_lines(ratings: list[Rating], info: dict[int, dict], decided: bool) -> list[list]:
    """Rows of the appeals download: the rating, the teller's reason and any decision."""
    lines = []
    for rating in ratings:
        appeal, made = info[rating.id]["appeal"], info[rating.id]["decision"]
        line = _rating_line(rating) + [appeal.reason if appeal else ""]
        if decided:
            line += [str(DECISIONS[made.action]), made.reason, made.actor.name, _when(made.at)]
        lines.append(line)
    return lines


@bp.get("/ratings/appeals.xlsx")
@role_required(*VIEWERS)
def appeals_xlsx():
    """Download the outlet's waiting appeals and its decisions as .xlsx."""
    scope = outlet_scope()
    pending = db.session.scalars(services.pending_appeals(scope.outlet)).all()
    decided = db.session.scalars(_decided(scope.outlet)).all()
    info = _review_info(pending + decided)
    return xlsx_response(f"评价申诉-{scope.outlet.code}.xlsx", [
        ("待处理申诉", RATING_HEADER + ["申诉理由"], _appeal_lines(pending, info, False)),
        ("已处理", RATING_HEADER + ["申诉理由", "处理结果", "处理理由", "处理人", "处理时间"],
         _appeal_lines(decided, info, True)),
    ])


# --- quarterly star levels --------------------------------------------------------------------

def level_rows(outlet: OrgUnit, quarter: Period) -> list[dict]:
    """Per active teller: quarter measures, proposed level, what is missing, confirmed level."""
    tellers = _tellers(outlet)
    ids = [teller.id for teller in tellers]
    measures = services.measures_for(ids, quarter)
    confirmed = services.confirmed_levels(ids, quarter.label)
    deciders = _names({level.confirmed_by_id for level in confirmed.values()})
    rows = services.thresholds()
    result = []
    for teller in tellers:
        level = confirmed.get(teller.id)
        result.append({
            "teller": teller, "figures": figures(measures[teller.id]),
            "proposed": services.star_level(measures[teller.id], rows),
            "gap": level_gap(measures[teller.id], rows),
            "confirmed": level.confirmed if level else None,
            "confirmed_by": deciders.get(level.confirmed_by_id) if level else None,
            "confirmed_at": level.confirmed_at if level else None,
        })
    return result


LEVEL_HEADER = ["工号", "姓名", *FIGURE_NAMES, "积分净变动", "建议星级", "晋级尚缺", "已评定星级",
                "评定人", "评定时间"]


def _level_line(row: dict) -> list:
    gap = row["gap"]
    missing = gettext("已达到最高星级") if gap is None else gettext(
        "距%(level)s:%(missing)s", level=star_level_name(gap["level"]),
        missing=",".join(map(str, gap["missing"])))
    return ([row["teller"].work_no, row["teller"].name]
            + [row["figures"][key] for key in FIGURE_KEYS]
            + [row["figures"]["net_points"], level_text(row["proposed"]), missing,
               level_text(row["confirmed"]), row["confirmed_by"] or "", _when(row["confirmed_at"])])


def _chosen_quarter(form: QuarterForm) -> Period:
    return form.period(_previous_quarter())


@bp.get("/ratings/levels")
@role_required(*VIEWERS)
def levels():
    """Show each teller's proposed level for a quarter (default: the previous one)."""
    scope, form = outlet_scope(), QuarterForm(request.args)
    if not form.validate():
        return _render("ratings/levels.html", scope, 400, form=form, rows=None)
    quarter = _chosen_quarter(form)
    return _render("ratings/levels.html", scope, form=form, quarter=quarter,
                   started=quarter.start <= local_today(), rows=level_rows(scope.outlet, quarter))


@bp.get("/ratings/levels.xlsx")
@role_required(*VIEWERS)
def levels_xlsx():
    """Download the quarter's proposed and confirmed levels as .xlsx."""
    scope, form = outlet_scope(), QuarterForm(request.args)
    if not form.validate():
        return render_error(400, " ".join(str(error) for error in form.quarter.errors))
    quarter = _chosen_quarter(form)
    lines = [_level_line(row) for row in level_rows(scope.outlet, quarter)]
    return xlsx_response(f"星级评定-{scope.outlet.code}-{quarter.label}.xlsx",
                         [(f"星级评定 {quarter.label}", LEVEL_HEADER, lines)])


@bp.post("/ratings/levels/<int:person_id>/confirm")
@role_required(MANAGER)
def level_confirm(person_id: int):
    """Confirm (评定) a teller's level for a quarter as proposed from the quarter's measures."""
    teller = _outlet_teller_or_404(person_id)
    form = ConfirmLevelForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.quarter.errors) or gettext("请刷新页面后重试。"), "error")
        return redirect(url_for("ratings.levels"), 303)
    quarter = _chosen_quarter(form)
    try:
        level = services.confirm_level(current_user, teller, quarter, utcnow())
    except DomainError as error:
        flash(str(error.message), "error")
    else:
        flash(gettext("已评定 %(name)s %(quarter)s 为%(level)s。", name=teller.name,
                      quarter=quarter.label, level=level_text(level.confirmed)), "success")
    return redirect(url_for("ratings.levels", quarter=quarter.label), 303)


# --- the monthly R15 check and its proposals ---------------------------------------------------

def _proposals_query(outlet: OrgUnit):
    return (select(PointsProposal)
            .where(PointsProposal.org_unit_id == outlet.id, PointsProposal.rule_code == "R15")
            .order_by(PointsProposal.created_at.desc(), PointsProposal.id.desc()))


def _proposals_page(scope: OutletScope, check_form: MonthlyCheckForm | None = None, status: int = 200):
    form = check_form or MonthlyCheckForm(data={"month": previous_month(local_today()).label})
    found = db.paginate(_proposals_query(scope.outlet), **_page())
    return _render("ratings/proposals.html", scope, status, pagination=found, check_form=form,
                   statuses=PROPOSAL_STATUS)


@bp.post("/ratings/monthly-check")
@role_required(MANAGER)
def monthly_check():
    """Run the R15 check of a finished month (default: the previous one) for the outlet."""
    form, today = MonthlyCheckForm(), local_today()
    if form.validate_on_submit():
        month = form.period(previous_month(today))
        if month.end < today:
            created = services.monthly_check([current_user.org_unit], month, utcnow())
            flash(gettext("%(month)s 星级柜员考核完成:新生成 %(count)d 条 R15 扣分建议。",
                          month=month.label, count=created), "success")
            return redirect(url_for("ratings.proposals"), 303)
        form.month.errors.append(_l("只能检查已经结束的月份。"))
    return _proposals_page(outlet_scope(), check_form=form, status=400)


@bp.get("/ratings/proposals")
@role_required(*VIEWERS)
def proposals():
    """List the outlet's R15 deduction proposals with their evidence."""
    return _proposals_page(outlet_scope())


@bp.get("/ratings/proposals.xlsx")
@role_required(*VIEWERS)
def proposals_xlsx():
    """Download the outlet's R15 proposals as .xlsx."""
    scope = outlet_scope()
    found = db.session.scalars(_proposals_query(scope.outlet)).all()
    lines = [[_when(p.created_at), p.person.work_no, p.person.name, p.evidence_ref, p.rule_code,
              float(p.points), float(p.money), p.reason, str(PROPOSAL_STATUS[p.status])]
             for p in found]
    header = ["生成时间", "工号", "姓名", "考核月份", "规则", "积分", "罚款(元)", "依据", "状态"]
    return xlsx_response(f"R15扣分建议-{scope.outlet.code}.xlsx", [("R15扣分建议", header, lines)])


# --- the star-level table (service office) -------------------------------------------------------

@bp.route("/ratings/thresholds", methods=["GET", "POST"])
@role_required(OFFICE)
def thresholds():
    """Let the service office edit the conditions of each star level."""
    form = ThresholdsForm(current=services.thresholds())
    if form.validate_on_submit():
        try:
            services.save_thresholds(form.thresholds(), current_user)
        except DomainError as error:
            blame(form, error)
        else:
            flash(gettext("已保存星级评定标准。"), "success")
            return redirect(url_for("ratings.thresholds"), 303)
    status = 400 if form.errors or form.form_errors else 200
    return render_template("ratings/thresholds.html", form=form), status


THRESHOLD_HEADER = (_l("星级"), _l("评价数 ≥"), _l("平均星级 ≥"), _l("满意率 ≥"), _l("评价率 ≥"),
                    _l("开机率 ≥"), _l("属实投诉 ≤"), _l("季度积分净变动 ≥"))


def _threshold_line(row: services.Threshold) -> list:
    def unlimited(value):
        return gettext("不限") if value is None else value

    return [level_text(row.level), row.min_ratings, float(row.min_average),
            services.percent(row.min_satisfaction), services.percent(row.min_evaluation),
            services.percent(row.min_on), unlimited(row.max_upheld),
            unlimited(None if row.min_net_points is None else float(row.min_net_points))]


@bp.get("/ratings/thresholds.xlsx")
@role_required(OFFICE)
def thresholds_xlsx():
    """The star-level conditions in force as .xlsx (the highest level first)."""
    rows = sorted(services.thresholds(), key=lambda row: -row.level)
    return xlsx_response(gettext("星级评定标准.xlsx"), [(
        gettext("星级评定标准"), [str(h) for h in THRESHOLD_HEADER],
        [_threshold_line(row) for row in rows])])


# --- the manager's home panel --------------------------------------------------------------------

def manager_panel(user: Person) -> dict:
    """Variables of the manager's home panel: open low-rating alerts and waiting appeals."""
    waiting = services.pending_appeals(user.org_unit).subquery()
    return {"alerts": services.alert_count(user.org_unit, _since()),
            "appeals": db.session.scalar(select(func.count()).select_from(waiting))}


register_panel("ratings/_manager_panel.html", (MANAGER,), manager_panel, order=10)
