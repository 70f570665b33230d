"""A day's sheet on the hall PC: items ticked in place with htmx (a plain form without it),
problems with note, people, photo and deadline, sign-off and re-opening; the problem ledger
and its rectification; the home panel; the problem photos."""
from datetime import date
from pathlib import Path

from flask import (abort, current_app, flash, make_response, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from werkzeug.utils import safe_join

from ...errors import DomainError
from ...extensions import db
from ...htmx import is_htmx
from ...models import LOBBY, MANAGER, OFFICE, OrgUnit
from ...nav import register_nav
from ...panels import register_panel
from ...permissions import outlet_scope, role_required, scope_unit
from ...templating import localtime
from ...timeutil import local_today, utcnow
from ...xlsx import xlsx_response
from ..admin.forms import options
from ..admin.photos import save_picture
from ..admin.queries import page_number
from . import bp, services
from .forms import STATE_LABELS, ProblemForm, ReasonForm, RectifyForm
from .models import ITEMS, PROBLEM, ChecklistMark, ChecklistSheet

TICKERS = (LOBBY, MANAGER)  # who ticks the outlet's sheet
VIEWERS = (LOBBY, MANAGER, OFFICE)
PHOTO_BOX = (1600, 1600)
PHOTO_FOLDER = "checklist"
EXPORT_ROWS = 5000

register_nav("checklist.today", _l("厅堂检查"), TICKERS, order=13)
register_nav("checklist.problems", _l("问题台账"), VIEWERS, order=14)


def panel_context(user) -> dict:
    """The home panel: today's progress and the open problems of the outlet."""
    today = local_today()
    sheet = services.sheet_for(user.org_unit, today)
    states = [m.state for m in sheet.marks] if sheet else []
    return {"sheet": sheet, "checked": services.progress(states), "total": ITEMS,
            "open_problems": services.open_problem_count([user.org_unit_id])}


register_panel("checklist/_panel.html", TICKERS, panel_context, order=12)


# --- which outlet and which day -----------------------------------------------------------------

def _outlet() -> OrgUnit:
    """The viewer's outlet, or for the service office ?outlet=CODE inside its subtree (else 404)."""
    return outlet_scope().outlet


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(404)
    if len(text) != 10 or day > local_today():
        abort(404)
    return day


def _sheet(outlet: OrgUnit, day: date, create: bool = False) -> ChecklistSheet:
    """The sheet of ``day``; today's is opened by the first lobby or outlet manager to look."""
    sheet = services.sheet_for(outlet, day)
    if sheet is None and create and day == local_today() and current_user.role in TICKERS:
        sheet = services.open_sheet(outlet, day, current_user, utcnow())
        db.session.commit()
    if sheet is None:
        abort(404)
    return sheet


def _args(outlet: OrgUnit) -> dict:
    return {"outlet": outlet.code} if current_user.role == OFFICE else {}


def _context(sheet: ChecklistSheet) -> dict:
    today = local_today()
    can_tick = current_user.role in TICKERS and services.editable(sheet, today)
    states = [mark.state for mark in sheet.marks]
    return {"sheet": sheet, "can_tick": can_tick, "checked": services.progress(states),
            "total": ITEMS, "can_sign": can_tick and services.can_sign(states),
            "labels": STATE_LABELS, "args": _args(sheet.outlet), "today": today,
            "can_reopen": current_user.role == OFFICE and sheet.signed}


# --- the sheet -------------------------------------------------------------------------------

@bp.get("/")
@role_required(*TICKERS)
def today():
    """Today's sheet of the signed-in person's outlet (created when first opened)."""
    return redirect(url_for("checklist.day", day=local_today().isoformat()))


@bp.get("/day/<day>")
@role_required(*VIEWERS)
def day(day: str):
    """A day's sheet: 20 items, progress, problems; ?problem=N opens that item's problem form."""
    outlet, when = _outlet(), _day(day)
    sheet = _sheet(outlet, when, create=True)
    context = _context(sheet)
    opened = request.args.get("problem", type=int)
    forms = {}
    if context["can_tick"] and opened is not None and 1 <= opened <= ITEMS:
        forms[opened] = _problem_form(sheet, services.mark_of(sheet, opened))
    return render_template("checklist/day.html", forms=forms, reason_form=ReasonForm(),
                           **context)


SHEET_HEADER = (_l("序号"), _l("类别"), _l("检查内容"), _l("结果"), _l("问题说明"), _l("责任人"),
                _l("整改期限"), _l("整改时间"), _l("整改说明"))


def _mark_line(mark: ChecklistMark) -> list:
    return [mark.number, mark.item.category, mark.item.text, str(STATE_LABELS[mark.state]),
            mark.note, "、".join(p.name for p in mark.people), mark.deadline,
            localtime(mark.rectified_at) if mark.rectified_at else "", mark.rectify_note]


@bp.get("/day/<day>/sheet.xlsx")
@role_required(*VIEWERS)
def day_xlsx(day: str):
    """A day's sheet as .xlsx: every item with its result, problem, people and rectification."""
    outlet, when = _outlet(), _day(day)
    sheet = _sheet(outlet, when)
    return xlsx_response(
        gettext("厅堂检查-%(outlet)s-%(day)s.xlsx", outlet=outlet.code, day=when.isoformat()),
        [(when.isoformat(), [str(h) for h in SHEET_HEADER],
          [_mark_line(mark) for mark in sheet.marks])])


def _problem_form(sheet: ChecklistSheet, mark: ChecklistMark, form: ProblemForm | None = None):
    """Item ``mark``'s problem form; its fields carry the item number (several may be open)."""
    form = form or ProblemForm(formdata=None, prefix=problem_prefix(mark.number))
    staff = services.outlet_staff(sheet.outlet)
    form.people.choices = options(None, {p.work_no: f"{p.work_no} {p.name}" for p in staff})
    if not form.is_submitted():
        form.note.data = mark.note if mark.state == PROBLEM else ""
        form.people.data = [p.work_no for p in mark.people]
        form.deadline.data = mark.deadline or services.default_deadline(sheet.day)
    return form


def problem_prefix(number: int) -> str:
    return f"item{number}"


def _item(sheet: ChecklistSheet, mark: ChecklistMark, form=None, status: int = 200,
          oob: bool = False, error=None, focus: bool = False):
    """One item's row (and, out of band, the progress and the sign-off button); ``focus``
    puts the keyboard back on its 不合格 button once a problem form closes."""
    context = _context(sheet)
    page = render_template("checklist/_item.html", mark=mark, form=form, oob=oob, error=error,
                           focus=focus, **context)
    return make_response(page, status)


@bp.route("/day/<day>/items/<int:number>", methods=["GET", "POST"])
@role_required(*VIEWERS)
def item(day: str, number: int):
    """GET: the item's row (with ?problem=1 its problem form). POST: mark it."""
    outlet, when = _outlet(), _day(day)
    sheet = _sheet(outlet, when)
    if not 1 <= number <= ITEMS:
        abort(404)
    mark = services.mark_of(sheet, number)
    if request.method == "GET":
        wants_form = request.args.get("problem") == "1" and _context(sheet)["can_tick"]
        if not is_htmx():
            return redirect(url_for("checklist.day", day=day, problem=number if wants_form else None,
                                    **_args(outlet)) + f"#item-{number}")
        return _item(sheet, mark, _problem_form(sheet, mark) if wants_form else None,
                     focus=request.args.get("focus") == "1")
    if current_user.role not in TICKERS:
        abort(403)
    state = request.form.get("state", "")
    form, photo = None, None
    try:
        services.check_editable(sheet, utcnow())
        if state == PROBLEM:
            form = _problem_form(sheet, mark, ProblemForm(prefix=problem_prefix(number)))
            if not form.validate():
                return _refused(sheet, mark, form)
            photo = _store_photo(form, sheet, number)
            problem = services.Problem(form.note.data, services.people_of(sheet.outlet,
                                                                          form.people.data),
                                       form.deadline.data, photo)
            mark = services.mark(sheet, number, state, current_user, utcnow(), problem)
        else:
            mark = services.mark(sheet, number, state, current_user, utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        _discard(photo)
        if form is not None and error.field and hasattr(form, error.field):
            getattr(form, error.field).errors = [error.message]
            return _refused(sheet, services.mark_of(sheet, number), form)
        if is_htmx():
            return _item(sheet, services.mark_of(sheet, number), status=422, oob=True,
                         error=error.message)
        flash(error.message, "error")
        return redirect(url_for("checklist.day", day=day, **_args(outlet)))
    if is_htmx():
        return _item(sheet, mark, oob=True, focus=state == PROBLEM)
    return redirect(url_for("checklist.day", day=day, **_args(outlet)) + f"#item-{number}", 303)


def _refused(sheet, mark, form):
    """The problem form again with its messages: in place (422) or as the whole page (400)."""
    if is_htmx():
        return _item(sheet, mark, form, status=422)
    context = _context(sheet)
    page = render_template("checklist/day.html", forms={mark.number: form},
                           reason_form=ReasonForm(), **context)
    return make_response(page, 400)


def _store_photo(form: ProblemForm, sheet: ChecklistSheet, number: int) -> str | None:
    upload = form.photo.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    folder = Path(current_app.instance_path) / PHOTO_FOLDER
    return save_picture(upload.stream, folder, f"{sheet.id}-{number}", PHOTO_BOX)


def _discard(photo: str | None) -> None:
    """Remove a photo stored for a change that was then refused (nothing half-saved)."""
    if photo:
        path = safe_join(str(Path(current_app.instance_path) / PHOTO_FOLDER), photo)
        if path:
            Path(path).unlink(missing_ok=True)


@bp.post("/day/<day>/sign")
@role_required(*TICKERS)
def sign(day: str):
    """提交: sign the sheet off once all 20 items are checked."""
    sheet = _sheet(_outlet(), _day(day))
    try:
        services.sign(sheet, current_user, utcnow())
        db.session.commit()
        flash(gettext("清单已提交。"), "success")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("checklist.day", day=day), 303)


@bp.post("/day/<day>/reopen")
@role_required(OFFICE)
def reopen(day: str):
    """The service office re-opens a signed sheet, with a reason."""
    outlet = _outlet()
    sheet = _sheet(outlet, _day(day))
    form = ReasonForm()
    try:
        services.reopen(sheet, current_user, form.reason.data or "", utcnow())
        db.session.commit()
        flash(gettext("清单已重新打开。"), "success")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("checklist.day", day=day, **_args(outlet)), 303)


# --- photos ----------------------------------------------------------------------------------

@bp.get("/photos/<int:mark_id>")
@role_required(*VIEWERS)
def photo(mark_id: int):
    """A problem's photo, for people who may see the outlet."""
    mark = db.session.get(ChecklistMark, mark_id)
    if mark is None or not mark.photo or not scope_unit(current_user).contains(mark.sheet.outlet):
        abort(404)
    path = safe_join(str(Path(current_app.instance_path) / PHOTO_FOLDER), mark.photo)
    if path is None or not Path(path).is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=300)


# --- the problem ledger ----------------------------------------------------------------------

def _ledger_outlets() -> list[OrgUnit]:
    if current_user.role != OFFICE:
        return [current_user.org_unit]
    code = (request.args.get("outlet") or "").strip().upper()
    outlets = list(db.session.scalars(
        select(OrgUnit).where(OrgUnit.kind == "outlet",
                              OrgUnit.path.startswith(scope_unit(current_user).path,
                                                      autoescape=True))
        .order_by(OrgUnit.code)))
    if code:
        outlets = [outlet for outlet in outlets if outlet.code == code]
        if not outlets:
            abort(404)
    return outlets


@bp.get("/problems")
@role_required(*VIEWERS)
def problems(failed: dict | None = None, status: int = 200):
    """问题台账: problems not yet put right, oldest first, overdue ones marked."""
    outlets = _ledger_outlets()
    page = db.paginate(services.open_problems([o.id for o in outlets]),
                       page=page_number(request.args.get("page", type=int)),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    forms = {mark.id: RectifyForm(formdata=None) for mark in page.items}
    forms.update(failed or {})
    return render_template("checklist/problems.html", page=page, forms=forms,
                           today=local_today(), can_rectify=current_user.role in TICKERS,
                           is_overdue=services.is_overdue, labels=STATE_LABELS,
                           outlet_code=request.args.get("outlet", "")), status


PROBLEM_HEADER = (_l("日期"), _l("网点"), _l("序号"), _l("检查内容"), _l("问题说明"), _l("责任人"),
                  _l("整改期限"), _l("已逾期"))


@bp.get("/problems.xlsx")
@role_required(*VIEWERS)
def problems_xlsx():
    """问题台账 as .xlsx: the same outlets and order as the page, every open problem."""
    outlets, today = _ledger_outlets(), local_today()
    found = db.session.scalars(services.open_problems([o.id for o in outlets])
                               .options(contains_eager(ChecklistMark.sheet))
                               .limit(EXPORT_ROWS)).all()
    rows = [[m.sheet.day, m.sheet.outlet.name, m.number, m.item.text, m.note,
             "、".join(p.name for p in m.people), m.deadline,
             gettext("是") if services.is_overdue(m.deadline, today) else ""] for m in found]
    return xlsx_response(gettext("问题台账.xlsx"),
                         [(gettext("问题台账"), [str(h) for h in PROBLEM_HEADER], rows)])


@bp.post("/problems/<int:mark_id>/rectify")
@role_required(*TICKERS)
def rectify(mark_id: int):
    """整改: record how a problem was put right."""
    mark = db.session.get(ChecklistMark, mark_id)
    if mark is None or mark.sheet.outlet_id != current_user.org_unit_id:
        abort(404)
    form = RectifyForm()
    if form.validate():
        try:
            services.rectify(mark, current_user, form.note.data, utcnow())
            db.session.commit()
            flash(gettext("已记录整改。"), "success")
            return redirect(url_for("checklist.problems"), 303)
        except DomainError as error:
            db.session.rollback()
            if error.field != "note":
                flash(error.message, "error")
            form.note.errors = [error.message]
    return problems(failed={mark_id: form}, status=400)

