"""The board (current titles and the archive by month or year), the public hall screen and the
photos both show; the nomination pages live in ``nominations``."""
from pathlib import Path

from flask import abort, current_app, make_response, render_template, request, send_file
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.utils import safe_join

from ...errors import render_error
from ...extensions import db
from ...models import OrgUnit, Person, unit_by_code
from ...nav import register_nav
from ...periods import BadPeriod, last_months
from ...permissions import STAFF_ROLES, role_required
from ...timeutil import local_today
from ...xlsx import xlsx_response
from ..admin.queries import page_number
from . import bp, models, services  # noqa: F401  (models known to db.metadata)

register_nav("honours.index", _l("光荣榜"), STAFF_ROLES, order=25)

PERIOD_MESSAGE = _l("期间格式有误:请按 YYYY-MM(月度)或 YYYY(年度)填写,如 2026-10 或 2026。")
SCREEN_REFRESH = 60  # seconds
BOARD_HEADER = (_l("称号"), _l("期间"), _l("姓名"), _l("工号"), _l("网点"), _l("事迹"))


def board_cells(item: services.BoardItem) -> list:
    return [item.title, item.period, item.name, item.work_no, item.outlet, item.citation]


def _paged(items: list, per_page: int) -> dict:
    """A page of an already bounded list (the board of one period), with the pager's fields."""
    pages = max((len(items) + per_page - 1) // per_page, 1)
    page = min(page_number(request.args.get("page", type=int)), pages)
    return {"items": items[(page - 1) * per_page:page * per_page], "page": page, "pages": pages,
            "total": len(items), "has_prev": page > 1, "has_next": page < pages,
            "prev_num": page - 1, "next_num": page + 1}


@bp.get("/")
@role_required(*STAFF_ROLES)
def index():
    """光荣榜: the current titles of the viewer's sub-branch (the office: its subtree), or the
    archive of a month or a year (?period=YYYY-MM|YYYY); .xlsx."""
    unit, today = services.board_unit(current_user), local_today()
    text = (request.args.get("period") or "").strip()
    try:
        period = services.parse_board_period(text) if text else None
    except BadPeriod:
        return render_error(400, PERIOD_MESSAGE)
    items = services.archive(unit, period) if period else services.current_board(unit, today)
    if request.args.get("format") == "xlsx":
        name = period.label if period else gettext("当前")
        return xlsx_response(gettext("光荣榜-%(period)s.xlsx", period=name), [(
            gettext("光荣榜"), [str(h) for h in BOARD_HEADER], [board_cells(i) for i in items])])
    return render_template("honours/board.html", unit=unit, period=period, today=today,
                           board=_paged(items, current_app.config["PAGE_SIZE"]),
                           months=_recent_months(today), years=[today.year - n for n in range(3)])


def _recent_months(today) -> list[str]:
    return [p.label for p in reversed(last_months(today, 12))]


@bp.get("/people/<int:person_id>/photo")
@role_required(*STAFF_ROLES)
def photo(person_id: int):
    """The photo of a person on the viewer's board (an honour or a five-star level there)."""
    if not services.on_board_of(person_id, services.board_unit(current_user)):
        abort(404)
    return _send_photo(person_id)


def _send_photo(person_id: int):
    found = db.session.get(Person, person_id)
    name = found.photo if found is not None else None
    path = safe_join(current_app.instance_path, "photos", name) if name else None
    if path is None or not Path(path).is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=300)


# --- the hall screen: public, no login, only approved titles, no internal notes -------------------

def _screen_outlet() -> OrgUnit | None:
    code = (request.args.get("outlet") or "").strip().upper()
    if not code:
        return None
    unit = unit_by_code(code) if len(code) <= 20 else None
    if unit is None or unit.kind != "outlet" or not unit.active:
        abort(make_response(render_template("honours/screen_missing.html", code=code), 404))
    return unit


@bp.get("/screen")
def screen():
    """全屏光荣榜 for the hall display: ?outlet=CODE shows that hall's people, without it the whole
    bank; refreshes itself every minute."""
    outlet, today = _screen_outlet(), local_today()
    items = services.current_board(outlet or _root(), today)
    return render_template("honours/screen.html", outlet=outlet, items=items, today=today,
                           refresh=SCREEN_REFRESH)


def _root() -> OrgUnit:
    root = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None))
                             .order_by(OrgUnit.id).limit(1))
    if root is None:
        abort(404)
    return root


@bp.get("/screen/people/<int:person_id>/photo")
def screen_photo(person_id: int):
    """A photo for the hall screen: only of people a screen shows right now."""
    if not services.shown_on_screen(person_id, local_today()):
        abort(404)
    return _send_photo(person_id)


from . import nominations  # noqa: E402,F401  (routes register)
