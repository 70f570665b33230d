"""The teller's own ratings: the home panel (levels, measures, trend, comments) and 我的评价."""
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db
from ...models import LOBBY, MANAGER, TELLER, Person
from ...nav import register_nav
from ...panels import register_panel
from ...periods import last_months, month_of, quarter_of
from ...permissions import role_required
from ...templating import localtime
from ...timeutil import local_today
from ...xlsx import xlsx_response
from ..admin.queries import page_number
from . import bp, services
from .manage_forms import AppealForm, blame
from .models import Rating
from .services import Measures

TREND_MONTHS = 12
COMMENTS_SHOWN = 10
CHANNELS = {"qr": _l("扫码评价"), "device": _l("评价器")}

LEVEL_NAMES = {5: _l("五星柜员"), 4: _l("四星柜员"), 3: _l("三星柜员"), 2: _l("二星柜员"),
               1: _l("一星柜员")}

register_nav("ratings.mine", _l("我的评价"), (TELLER, LOBBY, MANAGER), order=11)


@bp.app_template_global()
def star_level_name(level: int) -> str:
    """Return the name of a star level (四星柜员)."""
    return str(LEVEL_NAMES[level])


def level_text(level: int | None) -> str:
    """A level as stars and name ("★★★★☆ 四星柜员"), or "" when there is none."""
    return f"{'★' * level}{'☆' * (5 - level)} {LEVEL_NAMES[level]}" if level else ""


# --- figures shared by the teller's and the manager's pages ---------------------------------

def figures(m: Measures) -> dict:
    """Measures as pages and downloads show them, "—" where a rate has no denominator."""
    return {
        "ratings": m.ratings, "average": services.number(m.average),
        "satisfaction": services.percent(m.satisfaction_rate),
        "evaluation": services.percent(m.evaluation_rate), "on": services.percent(m.on_rate),
        "upheld": m.complaints_upheld, "net_points": services.number(m.net_points, 1),
        "transactions": m.transactions,
    }


def level_gap(m: Measures, rows) -> dict | None:
    """The next level up and what is still missing for it, or None at the top."""
    gap = services.next_level_gap(m, rows)
    return None if gap is None else {"level": gap[0], "missing": gap[1]}


# --- the trend chart: geometry computed here, drawn by ratings/_trend_chart.html -------------

CHART = {"width": 640, "height": 240, "left": 44, "right": 56, "top": 16, "bottom": 40}


def _plot_y(share: float) -> float:
    inner = CHART["height"] - CHART["top"] - CHART["bottom"]
    return round(CHART["top"] + (1 - share) * inner, 1)


def _series(points: list[tuple[float, float | None]]) -> dict:
    """Polyline segments between months with data, and the dots themselves."""
    segments, current = [], []
    for x, share in points + [(None, None)]:
        if share is not None:
            current.append(f"{x},{_plot_y(share)}")
        elif current:
            segments.append(current)
            current = []
    return {"lines": [" ".join(s) for s in segments if len(s) > 1],
            "dots": [(x, _plot_y(share)) for x, share in points if share is not None]}


def trend_chart(trend: list[dict]) -> dict:
    """Where the two series (average 1–5 stars, 满意率 0–100 %) lie on a shared grid."""
    width = CHART["width"] - CHART["left"] - CHART["right"]
    step = width / max(len(trend) - 1, 1)
    xs = [round(CHART["left"] + i * step, 1) for i in range(len(trend))]
    average = [None if t["average"] is None else float((t["average"] - 1) / 4) for t in trend]
    satisfied = [None if t["satisfaction"] is None else float(t["satisfaction"]) for t in trend]
    months = [{"x": x, "label": format_date(date.fromisoformat(t["month"] + "-01"), "MMM"),
               "month": t["month"],
               "ratings": t["ratings"], "average": services.number(t["average"]),
               "satisfaction": services.percent(t["satisfaction"])}
              for x, t in zip(xs, trend)]
    grid = [{"y": _plot_y(i / 4), "stars": i + 1, "percent": f"{i * 25} %"} for i in range(5)]
    return {**CHART, "months": months, "grid": grid, "plot_right": CHART["width"] - CHART["right"],
            "axis_y": CHART["height"] - CHART["bottom"],
            "average": _series(list(zip(xs, average))),
            "satisfaction": _series(list(zip(xs, satisfied)))}


# --- the teller's home panel ---------------------------------------------------------------

def teller_panel(user: Person) -> dict:
    """Variables of the teller's home panel: levels, measures, what is missing, trend, comments."""
    today = local_today()
    month, quarter = month_of(today), quarter_of(today)
    rows = services.thresholds()
    both = services.measures_over([user.id], [month, quarter])
    by_month, by_quarter = both[month.label][user.id], both[quarter.label][user.id]
    confirmed = services.latest_confirmed_level(user)
    return {
        "month": month, "quarter": quarter, "confirmed": confirmed,
        "projected": services.star_level(by_quarter, rows), "gap": level_gap(by_quarter, rows),
        "figures": [(_l("本月"), month, figures(by_month)), (_l("本季度"), quarter,
                                                              figures(by_quarter))],
        "chart": trend_chart(services.monthly_trend(user, last_months(today, TREND_MONTHS))),
        "comments": services.latest_comments(user, COMMENTS_SHOWN),
    }


register_panel("ratings/_teller_panel.html", (TELLER, LOBBY), teller_panel, order=10)


# --- 我的评价 and appeals ------------------------------------------------------------------

def _own_rating_or_404(rating_id: int) -> Rating:
    """A rating of the signed-in person; anyone else's (or an unknown id) is 404."""
    rating = db.session.get(Rating, rating_id)
    if rating is None or rating.person_id != current_user.id:
        abort(404)
    return rating


def _page() -> int:
    return page_number(request.args.get("page", type=int))


def _mine_page(failed: tuple[int, AppealForm] | None = None, status: int = 200):
    """Render 我的评价 at the requested page; ``failed`` is an appeal form to show with errors."""
    found = db.paginate(
        select(Rating).where(Rating.person_id == current_user.id)
        .order_by(Rating.rated_at.desc(), Rating.id.desc()),
        page=_page(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    reviews = services.reviews_for([rating.id for rating in found.items])
    states = {rating.id: services.review_state(reviews[rating.id]) for rating in found.items}
    return render_template("ratings/mine.html", pagination=found, states=states,
                           channels=CHANNELS, failed=failed), status


@bp.get("/ratings/mine")
@role_required(TELLER, LOBBY, MANAGER)
def mine():
    """List the signed-in person's own ratings, newest first, with their review state."""
    return _mine_page()


MINE_HEADER = (_l("时间"), _l("星级"), _l("标签"), _l("留言"), _l("渠道"), _l("申诉"))
REVIEW_STATES = {"appealed": _l("申诉中"), "excluded": _l("已排除"), "kept": _l("维持"), "none": ""}
EXPORT_ROWS = 5000


@bp.get("/ratings/mine.xlsx")
@role_required(TELLER, LOBBY, MANAGER)
def mine_xlsx():
    """The signed-in person's own ratings as .xlsx, newest first, with their review state."""
    found = db.session.scalars(
        select(Rating).where(Rating.person_id == current_user.id)
        .order_by(Rating.rated_at.desc(), Rating.id.desc()).limit(EXPORT_ROWS)).all()
    reviews = services.reviews_for([rating.id for rating in found])
    rows = [[localtime(r.rated_at), r.stars, "、".join(r.tag_list), r.comment,
             str(CHANNELS.get(r.channel, r.channel)),
             str(REVIEW_STATES[services.review_state(reviews[r.id])])] for r in found]
    return xlsx_response(gettext("我的评价-%(work_no)s.xlsx", work_no=current_user.work_no),
                         [(gettext("我的评价"), [str(h) for h in MINE_HEADER], rows)])


@bp.post("/ratings/<int:rating_id>/appeal")
@role_required(TELLER, LOBBY, MANAGER)
def appeal(rating_id: int):
    """Dispute one of the signed-in person's own ratings, with a reason (申诉)."""
    rating = _own_rating_or_404(rating_id)
    form, status = AppealForm(), 400
    if form.validate_on_submit():
        try:
            services.appeal(current_user, rating, form.reason.data)
        except DomainError as error:
            blame(form, error)
            status = error.status
        else:
            flash(gettext("已提交申诉,等待网点负责人处理。"), "success")
            return redirect(url_for("ratings.mine", page=_page()), 303)
    return _mine_page(failed=(rating.id, form), status=status)
