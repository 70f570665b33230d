"""Nominations: the outlet manager nominates with a citation and candidate suggestions; the
service office approves (creating the linked award entry) or rejects; lists with .xlsx."""
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db
from ...models import MANAGER, OFFICE, OrgUnit, Person
from ...nav import register_nav
from ...panels import register_panel
from ...periods import BadPeriod, month_of
from ...permissions import in_scope, role_required
from ...templating import localtime
from ...timeutil import local_today, utcnow
from ...xlsx import xlsx_response
from ..admin.forms import options
from ..admin.queries import page_number
from . import bp, services
from .forms import ApproveForm, NominationForm, RejectForm
from .models import PROPOSED, Honour

DECIDERS = (MANAGER, OFFICE)
EXPORT_ROWS = 5000
STATUS_LABELS = {"proposed": _l("待审批"), "approved": _l("已批准"), "rejected": _l("未批准")}
LIST_HEADER = (_l("推荐时间"), _l("网点"), _l("工号"), _l("姓名"), _l("称号"), _l("期间"),
               _l("事迹"), _l("状态"), _l("审批意见"), _l("奖励分值"), _l("奖励金额(元)"))

register_nav("honours.nominations", _l("荣誉推荐"), DECIDERS, order=26)


def panel_context(user) -> dict:
    return {"pending": services.pending_count(user)}


register_panel("honours/_panel.html", DECIDERS, panel_context, order=26)


@bp.app_template_global()
def honour_tools() -> dict:
    """What the honours templates need: title names, statuses."""
    return {"titles": services.TITLE_BY_CODE, "statuses": STATUS_LABELS}


# --- nominating ----------------------------------------------------------------------------------

def _nomination_form(outlet: OrgUnit) -> tuple[NominationForm, dict[str, Person]]:
    people = {p.work_no: p for p in services.nominees(outlet, current_user)}
    form = NominationForm()
    form.person.choices = options(_l("请选择"), {
        no: f"{no} {p.name}({p.role_label})" for no, p in people.items()})
    form.title.choices = options(_l("请选择"), {t.code: t.name for t in services.NOMINATED})
    if not form.is_submitted():
        args = request.args
        form.person.data = args.get("person") if args.get("person") in people else None
        form.title.data = args.get("title") if args.get("title") in services.TITLE_BY_CODE \
            else "monthly_star"
        form.period.data = _last_month().label
    return form, people


def _last_month():
    return month_of(local_today().replace(day=1) - timedelta(days=1))


def _candidates(outlet: OrgUnit) -> dict:
    """The suggestions shown beside the form (?month=YYYY-MM, ?year=YYYY)."""
    today, errors = local_today(), {}
    try:
        chosen = services.parse_period(services.MONTHLY, request.args.get("month") or "")
    except BadPeriod:
        if request.args.get("month"):
            errors["month"] = gettext("请按 YYYY-MM 填写月份。")
        chosen = _last_month()
    try:
        year = services.parse_period(services.YEARLY, request.args.get("year") or "")
    except BadPeriod:
        if request.args.get("year"):
            errors["year"] = gettext("请按 YYYY 填写年份。")
        year = services.parse_period(services.YEARLY, str(today.year))
    year_number = min(int(year.label), today.year)
    subbranch = services.subbranch_of(outlet)
    return {"month": chosen, "monthly": services.monthly_candidates(outlet, chosen),
            "year": year_number, "yearly": services.yearly_candidates(outlet, year_number, today),
            "yearly_left": max(services.YEARLY_CAP - services.yearly_taken(
                subbranch, str(year_number)), 0), "subbranch": subbranch,
            "candidate_errors": errors}


@bp.route("/nominate", methods=["GET", "POST"])
@role_required(MANAGER)
def nominate():
    """推荐: a person of the outlet for a title and period, with the citation; candidates shown."""
    outlet = current_user.org_unit
    form, people = _nomination_form(outlet)
    if form.validate_on_submit():
        try:
            honour = services.nominate(current_user, people[form.person.data], form.title.data,
                                       form.period.data, form.citation.data, utcnow())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "title", form.title).errors.append(error.message)
        else:
            flash(gettext("已推荐 %(name)s 为%(title)s,等待文优办审批。", name=honour.person.name,
                          title=services.TITLE_BY_CODE[honour.title].name), "success")
            return redirect(url_for("honours.nominations"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("honours/nominate.html", form=form, outlet=outlet,
                           **_candidates(outlet)), status


# --- the lists -----------------------------------------------------------------------------------

def _visible(query):
    """Honours of the manager's outlet, or of the office's subtree."""
    query = query.join(OrgUnit, OrgUnit.id == Honour.org_unit_id)
    if current_user.role == MANAGER:
        return query.where(Honour.org_unit_id == current_user.org_unit_id)
    return query.where(OrgUnit.path.startswith(current_user.org_unit.path, autoescape=True))


def _status() -> str:
    chosen = request.args.get("status")
    if chosen in ("pending", "all"):
        return chosen
    return "pending" if current_user.role == OFFICE else "all"


def _list_query(status: str):
    query = _visible(select(Honour))
    if status == "pending":
        return query.where(Honour.status == PROPOSED).order_by(Honour.nominated_at, Honour.id)
    return query.order_by(Honour.nominated_at.desc(), Honour.id.desc())


def _decision_forms(honours, failed: dict | None) -> dict:
    forms = {}
    if current_user.role == OFFICE:
        for honour in honours:
            if honour.status == PROPOSED and honour.person_id != current_user.id:
                forms[honour.id] = {
                    "approve": ApproveForm(formdata=None, prefix=f"approve-{honour.id}",
                                           version=str(honour.version)),
                    "reject": RejectForm(formdata=None, prefix=f"reject-{honour.id}",
                                         version=str(honour.version))}
    for (honour_id, action), form in (failed or {}).items():
        forms.setdefault(honour_id, {})[action] = form
    return forms


def _show_list(failed: dict | None = None, status_code: int = 200):
    status = _status()
    page = db.paginate(_list_query(status), page=page_number(request.args.get("page", type=int)),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("honours/nominations.html", page=page, status=status,
                           forms=_decision_forms(page.items, failed)), status_code


def _cells(honour: Honour) -> list:
    person = honour.person
    return [localtime(honour.nominated_at), person.org_unit.name, person.work_no, person.name,
            services.TITLE_BY_CODE[honour.title].name, honour.period, honour.citation,
            str(STATUS_LABELS[honour.status]), honour.decision_note,
            float(honour.points) if honour.points is not None else None,
            float(honour.money) if honour.money is not None else None]


@bp.get("/nominations")
@role_required(*DECIDERS)
def nominations():
    """荣誉推荐: the manager's outlet's nominations and their status; the office's queue."""
    if request.args.get("format") == "xlsx":
        found = db.session.scalars(_list_query(_status()).limit(EXPORT_ROWS)).all()
        return xlsx_response(gettext("荣誉推荐.xlsx"), [(
            gettext("荣誉推荐"), [str(h) for h in LIST_HEADER], [_cells(h) for h in found])])
    return _show_list()


def _honour_or_404(honour_id: int) -> Honour:
    honour = db.session.get(Honour, honour_id)
    if honour is None or not in_scope(current_user, db.session.get(OrgUnit, honour.org_unit_id)):
        abort(404)
    if current_user.role == MANAGER and honour.org_unit_id != current_user.org_unit_id:
        abort(404)
    return honour


@bp.get("/nominations/<int:honour_id>")
@role_required(*DECIDERS)
def detail(honour_id: int):
    """One nomination with its decision, its award entry and its whole history."""
    honour = _honour_or_404(honour_id)
    return render_template("honours/detail.html", honour=honour,
                           events=services.history(honour))


# --- deciding ------------------------------------------------------------------------------------

def _decide(honour_id: int, action: str, form_class, run, done):
    """One decision: 409 when the nomination changed since the page was shown, 422 with the
    message next to the field when refused."""
    honour = _honour_or_404(honour_id)
    form = form_class(prefix=f"{action}-{honour.id}")
    try:
        with services.guarded():
            services.check_version(honour, form.seen_version)
            if not form.validate():
                return _show_list({(honour.id, action): form}, 422)
            run(honour, form)
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if error.status == 409:
            flash(str(error.message), "error")
            return _show_list(status_code=409)
        target = getattr(form, error.field or "", None)
        (target.errors if target is not None and hasattr(target, "errors")
         else form.form_errors).append(error.message)
        return _show_list({(honour_id, action): form}, 422)
    flash(str(done), "success")
    return redirect(url_for("honours.nominations"), 303)


@bp.post("/nominations/<int:honour_id>/approve")
@role_required(OFFICE)
def approve(honour_id: int):
    """批准: the title is awarded; 月度服务明星 and 委屈奖 add their award to the ledger."""
    return _decide(honour_id, "approve", ApproveForm,
                   lambda honour, form: services.approve(
                       honour, current_user, utcnow(), form.note.data, form.points.data,
                       form.money.data), _l("已批准,荣誉已上榜。"))


@bp.post("/nominations/<int:honour_id>/reject")
@role_required(OFFICE)
def reject(honour_id: int):
    """不予批准, with a note."""
    return _decide(honour_id, "reject", RejectForm,
                   lambda honour, form: services.reject(honour, current_user, form.note.data,
                                                        utcnow()), _l("已退回该推荐。"))
