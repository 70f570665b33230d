"""Ledger pages: a person's ledger, the outlet overview with training, recording an entry and
confirming or revoking it, the proposals other features make, the rule catalogue, the home panel.
"""
from datetime import date
from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select

from ...errors import DomainError, render_error
from ...extensions import db
from ...models import LOBBY, MANAGER, OFFICE, TELLER, OrgUnit, Person, person_by_work_no
from ...nav import register_nav
from ...panels import register_panel
from ...periods import year as calendar_year
from ...permissions import (STAFF_ROLES, OutletScope, can_see_person, in_scope, outlet_scope,
                            role_required, scope_unit)
from ...proposals import PROPOSED as PROPOSAL_OPEN
from ...proposals import PointsProposal
from ...templating import localtime
from ...timeutil import local_today, utcnow
from ...xlsx import xlsx_response
from ..admin.forms import options
from ..admin.queries import page_number
from . import bp, services
from .forms import (KIND_LABELS, STATUS_LABELS, AmountsForm, DismissForm, EntryForm,
                    ProposalForm, RevokeForm, TrainingForm, VersionForm, year_of)
from .models import PROPOSED, REVOKED, LedgerEntry, Training

READERS = (TELLER, LOBBY, MANAGER, OFFICE)
OWN = (TELLER, LOBBY, MANAGER)  # people with a ledger of their own in the nav
DECIDERS = (MANAGER, OFFICE)
CHECKLIST_VIEWERS = (LOBBY, MANAGER, OFFICE)
EXPORT_ROWS = 5000
YEARS_SHOWN = 6
YEAR_MESSAGE = _l("请选择 2000 年至今年之间的年份。")
EVIDENCE_LABELS = {
    "text": "", "complaint": _l("投诉"), "checklist": _l("厅堂检查"),
    "rating_month": _l("星级评价月份"), "entry": _l("来源记录"), "pileup": _l("同日多人次"),
    "fine": _l("逾期罚款记录"), "honour": _l("光荣榜"),
}

register_nav("ledger.mine", _l("我的积分"), OWN, order=16)
register_nav("ledger.outlet", _l("积分台账"), DECIDERS, order=17)
register_nav("ledger.rules", _l("积分条款"), (OFFICE,), order=42)


# --- who may do what (views answer 403/404 with these, templates hide buttons) ----------------

def can_decide_for(user: Person, unit: OrgUnit) -> bool:
    """Outlet managers decide for their own outlet, the service office for its subtree."""
    if user.role == MANAGER:
        return unit.id == user.org_unit_id
    return user.role == OFFICE and in_scope(user, unit)


def can_record_for(user: Person, person: Person) -> bool:
    return (person.id != user.id and person.active and person.role in OWN
            and can_decide_for(user, person.org_unit))


def can_confirm(user: Person, entry: LedgerEntry) -> bool:
    """确认: the service office or the outlet manager, never the person the entry is about."""
    return (entry.status == PROPOSED and entry.person_id != user.id
            and can_decide_for(user, entry.person.org_unit))


def can_revoke(user: Person, entry: LedgerEntry) -> bool:
    """撤销: the service office only."""
    return (entry.status != REVOKED and user.role == OFFICE
            and in_scope(user, entry.person.org_unit))


def proposal_unit(proposal: PointsProposal) -> OrgUnit:
    """The outlet a proposal was made in (usually loaded already with its person)."""
    return db.session.get(OrgUnit, proposal.org_unit_id)


def can_decide_proposal(user: Person, proposal: PointsProposal) -> bool:
    return proposal.person_id != user.id and can_decide_for(user, proposal_unit(proposal))


# --- evidence as a link where it can be one ----------------------------------------------------

def evidence(item) -> tuple[str, str | None]:
    """The evidence of an entry or proposal as (text, link or None)."""
    kind, ref = item.evidence_kind or "text", item.evidence_ref or ""
    label = str(EVIDENCE_LABELS.get(kind, kind))
    text = f"{label} {ref}".strip() or "—"
    parts = ref.split(":")
    if kind == "checklist" and len(parts) == 3:
        text = gettext("厅堂检查 %(outlet)s %(day)s 第 %(number)s 项", outlet=parts[0],
                       day=parts[1], number=parts[2])
    return text, _evidence_url(kind, ref, item.person)


def _evidence_url(kind: str, ref: str, person: Person) -> str | None:
    role, office = current_user.role, current_user.role == OFFICE
    if kind == "complaint" and ref:
        return url_for("complaints.index", q=ref.split(":")[0], status="all")
    if kind == "checklist" and role in CHECKLIST_VIEWERS:
        parts = ref.split(":")
        if len(parts) != 3 or not (office or parts[0] == current_user.org_unit.code):
            return None
        try:
            day = date.fromisoformat(parts[1])
        except ValueError:
            return None
        args = {"outlet": parts[0]} if office else {}
        return url_for("checklist.day", day=day.isoformat(), **args) + f"#item-{parts[2]}"
    if kind == "honour" and ref.isdigit():
        if role in (MANAGER, OFFICE):
            return url_for("honours.detail", honour_id=int(ref))
        return url_for("honours.index")
    if kind == "rating_month":
        if role == TELLER:
            return url_for("ratings.mine")
        args = {"outlet": person.org_unit.code} if office else {}
        return url_for("ratings.outlet", month=ref, **args)
    return None


MINUS = "\u2212"  # −, read as "minus" by screen readers, and no formula in a spreadsheet


def points_text(value) -> str:
    return f"{Decimal(value):+.1f}".replace("-", MINUS) if value else "0.0"


def range_text(bounds, fmt: str = "{:+.1f}") -> str:
    low, high = (fmt.format(v).replace("-", MINUS) for v in sorted(bounds, key=abs))
    return low if low == high else f"{low} ~ {high}"


def money_range(bounds) -> str:
    return range_text(bounds, "¥{:.0f}")


@bp.app_template_global()
def ledger_tools() -> dict:
    """The helpers the ledger templates use."""
    return {"evidence": evidence, "points": points_text, "range": range_text,
            "money_range": money_range, "statuses": STATUS_LABELS, "kinds": KIND_LABELS,
            "rules": services.RULES}


def _year() -> int | None:
    return year_of(request.args.get("year"), local_today())


def _years() -> list[int]:
    this = local_today().year
    return list(range(this, this - YEARS_SHOWN, -1))


# --- the home panel ----------------------------------------------------------------------------

def panel_context(user) -> dict:
    """我的积分: the year's balance and the warning state; for managers what waits for them."""
    today = local_today()
    waiting = None
    if user.role == MANAGER:
        waiting = db.session.scalar(select(func.count(PointsProposal.id)).where(
            PointsProposal.org_unit_id == user.org_unit_id,
            PointsProposal.status == PROPOSAL_OPEN, PointsProposal.person_id != user.id))
    balance = services.balance(user, today.year, today)  # no entry is dated after today
    return {"balance": balance, "year": today.year,
            "warning": services.in_warning(user, today, balance_now=balance), "waiting": waiting}


register_panel("ledger/_panel.html", OWN, panel_context, order=16)


# --- a person's ledger -------------------------------------------------------------------------

def _person_or_404(work_no: str) -> Person:
    found = person_by_work_no(work_no) if len(work_no) <= 20 else None
    if found is None or not can_see_person(current_user, found):
        abort(404)
    return found


def _entries(person: Person, year: int):
    start, end = date(year, 1, 1), date(year, 12, 31)
    return (select(LedgerEntry).where(LedgerEntry.person_id == person.id,
                                      LedgerEntry.day.between(start, end))
            .order_by(LedgerEntry.day.desc(), LedgerEntry.id.desc()))


def form_prefix(action: str, item_id: int) -> str:
    """Each row's forms carry their own prefix, so ids stay unique on a page of many."""
    return f"{action}-{item_id}"


def _entry_forms(entries, failed: dict | None) -> dict:
    """Per entry id: the confirm and revoke forms the viewer may use, with the entry's version."""
    forms = {}
    for entry in entries:
        shown = {}
        if can_confirm(current_user, entry):
            shown["confirm"] = VersionForm(formdata=None, prefix=form_prefix("confirm", entry.id),
                                           version=str(entry.version))
        if can_revoke(current_user, entry):
            shown["revoke"] = RevokeForm(formdata=None, prefix=form_prefix("revoke", entry.id),
                                         version=str(entry.version))
        forms[entry.id] = shown
    for (entry_id, action), form in (failed or {}).items():
        forms.setdefault(entry_id, {})[action] = form
    return forms


def _show_person(person: Person, year: int | None, failed: dict | None = None,
                 status: int = 200):
    today = local_today()
    context = {"person": person, "year": year, "years": _years(),
               "can_record": can_record_for(current_user, person)}
    if year is None:
        return render_template("ledger/person.html", year_error=YEAR_MESSAGE, **context), 400
    page = db.paginate(_entries(person, year), page=page_number(request.args.get("page", type=int)),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    trainings = db.session.scalars(select(Training).where(Training.person_id == person.id)
                                   .order_by(Training.passed_on.desc())).all()
    return render_template(
        "ledger/person.html", page=page, standing=services.standing(person, year, today),
        trainings=trainings, forms=_entry_forms(page.items, failed),
        until=min(today, date(year, 12, 31)), **context), status


@bp.url_defaults
def same_person(endpoint: str, values: dict) -> None:
    """Links from a person's page to itself (the pager's) keep the person."""
    if (endpoint == "ledger.person" and "work_no" not in values
            and request.endpoint == endpoint and request.view_args):
        values["work_no"] = request.view_args["work_no"]


@bp.get("/")
@role_required(*OWN)
def mine():
    """我的积分: the signed-in person's own ledger."""
    return redirect(url_for("ledger.person", work_no=current_user.work_no))


@bp.get("/people/<work_no>")
@role_required(*READERS)
def person(work_no: str):
    """A person's ledger of a year: balance, warning, training, entries, grade cap; .xlsx."""
    found, year = _person_or_404(work_no), _year()
    if request.args.get("format") == "xlsx":
        if year is None:
            return render_error(400, YEAR_MESSAGE)
        return _person_xlsx(found, year)
    return _show_person(found, year)


ENTRY_HEADER = (_l("日期"), _l("条款"), _l("条款内容"), _l("分值"), _l("金额(元)"), _l("加倍"),
                _l("管理责任"), _l("状态"), _l("事由"), _l("依据"), _l("录入时间"), _l("撤销原因"))


def _entry_cells(entry: LedgerEntry) -> list:
    rule = services.RULES.get(entry.rule_code)
    yes = gettext("是")
    return [entry.day, entry.rule_code, rule.title if rule else gettext("管理连带"),
            float(entry.points), float(entry.money), yes if entry.doubled else "",
            yes if entry.responsibility else "", str(STATUS_LABELS[entry.status]), entry.reason,
            evidence(entry)[0], localtime(entry.recorded_at), entry.revoke_reason]


def _person_xlsx(person: Person, year: int):
    standing = services.standing(person, year, local_today())
    entries = db.session.scalars(_entries(person, year).limit(EXPORT_ROWS)).all()
    summary = [[person.work_no, person.name, person.org_unit.name, year, standing["points"],
                standing["deductions"], standing["awards"], standing["complaints_upheld"],
                gettext("是") if standing["warning"] else gettext("否"),
                standing["grade_cap"] or ""]]
    return xlsx_response(
        gettext("积分台账-%(work_no)s-%(year)s.xlsx", work_no=person.work_no, year=year),
        [(gettext("积分明细"), [str(h) for h in ENTRY_HEADER], [_entry_cells(e) for e in entries]),
         (gettext("汇总"), [str(h) for h in SUMMARY_HEADER], summary)])


SUMMARY_HEADER = (_l("工号"), _l("姓名"), _l("网点"), _l("年度"), _l("积分余额"), _l("扣分次数"),
                  _l("奖励次数"), _l("属实投诉"), _l("戒勉状态"), _l("年终等级上限"))


# --- confirming and revoking an entry ----------------------------------------------------------

def _entry_or_404(entry_id: int) -> LedgerEntry:
    entry = db.session.get(LedgerEntry, entry_id)
    if entry is None or not can_see_person(current_user, entry.person):
        abort(404)
    return entry


def _act(entry_id: int, action: str, form_class, allowed, run, done):
    """One action on an entry: 403 when not the viewer's to take, 409 when the entry changed
    since the page was shown, 400 with the message next to the form when refused."""
    entry = _entry_or_404(entry_id)
    form, year = form_class(prefix=form_prefix(action, entry.id)), entry.day.year
    try:
        with services.guarded():
            services.check_version(entry, form.seen_version)
            if not allowed(current_user, entry):
                abort(403)
            if not form.validate():
                return _show_person(entry.person, year, {(entry.id, action): form}, 400)
            run(entry, form)
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        entry = db.session.get(LedgerEntry, entry_id)
        if error.status == 409:
            flash(str(error.message), "error")
            return _show_person(entry.person, year, status=409)
        target = getattr(form, error.field or "", None)
        (target.errors if target is not None and hasattr(target, "errors")
         else form.form_errors).append(error.message)
        return _show_person(entry.person, year, {(entry.id, action): form}, 400)
    flash(str(done), "success")
    return redirect(url_for("ledger.person", work_no=entry.person.work_no, year=year), 303)


@bp.post("/entries/<int:entry_id>/confirm")
@role_required(*DECIDERS)
def entry_confirm(entry_id: int):
    """确认: the entry takes effect (doubling and manager charges apply)."""
    return _act(entry_id, "confirm", VersionForm, can_confirm,
                lambda entry, form: services.confirm(entry, current_user, utcnow()),
                _l("已确认,记录已生效。"))


@bp.post("/entries/<int:entry_id>/revoke")
@role_required(OFFICE)
def entry_revoke(entry_id: int):
    """撤销: with a reason; its manager charges are revoked with it."""
    return _act(entry_id, "revoke", RevokeForm, can_revoke,
                lambda entry, form: services.revoke(entry, current_user, form.reason.data,
                                                    utcnow()),
                _l("已撤销该记录。"))


# --- recording an entry ------------------------------------------------------------------------

def _recordable() -> list[Person]:
    """The active people the viewer may record for: a manager's outlet, the office's subtree."""
    query = (select(Person).join(Person.org_unit)
             .where(Person.active, Person.id != current_user.id,
                    Person.role.in_(OWN), OrgUnit.kind == "outlet"))
    if current_user.role == MANAGER:
        query = query.where(Person.org_unit_id == current_user.org_unit_id)
    else:
        query = query.where(OrgUnit.path.startswith(scope_unit(current_user).path,
                                                    autoescape=True))
    return list(db.session.scalars(query.order_by(OrgUnit.code, Person.work_no)))


def rule_label(rule) -> str:
    if rule.recorder_sets:
        return f"{rule.code} {rule.title}({gettext('金额由录入人确定')})"
    return f"{rule.code} {rule.title}({range_text(rule.points)}, {money_range(rule.money)})"


def _entry_form() -> tuple[EntryForm, dict[str, Person]]:
    people = {p.work_no: p for p in _recordable()}
    form = EntryForm()
    form.person.choices = options(_l("请选择"), {
        no: f"{p.work_no} {p.name}({p.org_unit.name} · {p.role_label})"
        for no, p in people.items()})
    form.rule.choices = options(_l("请选择"), {r.code: rule_label(r) for r in services.catalogue()})
    if not form.is_submitted() and request.args.get("person") in people:
        form.person.data = request.args["person"]
    return form, people


def _save_entry(form: EntryForm, person: Person) -> LedgerEntry | None:
    """The proposed entry, or None with the refusal next to its field."""
    rule = services.RULES[form.rule.data]
    if rule.kind == services.MANAGER_RULE and person.role != MANAGER:
        form.rule.errors.append(_l("该条款只适用于网点负责人。"))
        return None
    try:
        return services.record(
            person, rule.code, form.day.data, utcnow(), points=form.points.data,
            money=form.money.data, responsibility=form.responsibility.data,
            reason=form.reason.data, evidence=("text", form.evidence.data or ""),
            actor=current_user)
    except DomainError as error:
        db.session.rollback()
        target = {"rule_code": form.rule, "money": form.money}.get(error.field, form.points)
        target.errors.append(error.message)
        return None


@bp.route("/new", methods=["GET", "POST"])
@role_required(*DECIDERS)
def new():
    """记一笔: a deduction or award, proposed until the office or the outlet manager confirms."""
    form, people = _entry_form()
    if form.validate_on_submit():
        entry = _save_entry(form, people[form.person.data])
        if entry is not None:
            db.session.commit()
            flash(gettext("已记录,待确认后生效。"), "success")
            return redirect(url_for("ledger.person", work_no=entry.person.work_no,
                                    year=entry.day.year), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("ledger/new.html", form=form), status


# --- the outlet overview and training ----------------------------------------------------------

def _outlet_people(outlet: OrgUnit, year: int) -> list[Person]:
    """The outlet's active people, and those gone since who have entries in ``year``."""
    with_entries = select(LedgerEntry.person_id).where(
        LedgerEntry.org_unit_id == outlet.id,
        LedgerEntry.day.between(date(year, 1, 1), date(year, 12, 31)))
    return list(db.session.scalars(select(Person).where(
        Person.org_unit_id == outlet.id, Person.role.in_(OWN),
        or_(Person.active, Person.id.in_(with_entries))).order_by(Person.work_no)))


def outlet_rows(outlet: OrgUnit, year: int, today: date) -> list[dict]:
    """Each person's balance, counts, warning and grade cap, in a fixed number of queries."""
    from ..complaints.services import upheld_counts

    people = _outlet_people(outlet, year)
    ids = [p.id for p in people]
    balances = services.balances(ids, year)
    tallies = services.tallies(ids, year)
    warned = services.warnings(ids, min(today, date(year, 12, 31)))
    upheld = upheld_counts(ids, calendar_year(year)) if ids else {}
    return [{"person": p, "balance": balances[p.id], **tallies[p.id],
             "warning": p.id in warned, "complaints": upheld.get(p.id, 0),
             "cap": services.grade_cap(balances[p.id], upheld.get(p.id, 0))} for p in people]


def _training_form(rows: list[dict], form: TrainingForm | None = None) -> TrainingForm | None:
    """The manager's training form over the people in warning (None for anyone else)."""
    warned = {row["person"].work_no: row["person"] for row in rows if row["warning"]}
    if current_user.role != MANAGER or not warned:
        return None
    form = form or TrainingForm(formdata=None)
    form.person.choices = options(_l("请选择"), {no: f"{no} {p.name}" for no, p in warned.items()})
    return form


def _show_outlet(scope: OutletScope, year: int | None, training: TrainingForm | None = None,
                 status: int = 200):
    context = {"outlet": scope.outlet, "outlets": scope.outlets, "scope_args": scope.args,
               "year": year, "years": _years()}
    if year is None:
        return render_template("ledger/outlet.html", year_error=YEAR_MESSAGE, **context), 400
    today = local_today()
    rows = outlet_rows(scope.outlet, year, today)
    form = _training_form(rows, training) if year == today.year else None
    return render_template("ledger/outlet.html", rows=rows, training=form,
                           can_record=True, **context), status


OUTLET_HEADER = (_l("工号"), _l("姓名"), _l("岗位"), _l("积分余额"), _l("扣分次数"),
                 _l("奖励次数"), _l("待确认"), _l("属实投诉"), _l("戒勉状态"),
                 _l("年终等级上限"))


def _outlet_cells(row: dict) -> list:
    p = row["person"]
    return [p.work_no, p.name, p.role_label, float(row["balance"]), row["deductions"],
            row["awards"], row["pending"], row["complaints"],
            gettext("是") if row["warning"] else gettext("否"), row["cap"] or ""]


@bp.get("/outlet")
@role_required(*DECIDERS)
def outlet():
    """The outlet's people: balances, counts, warning, grade cap; training; .xlsx."""
    scope, year = outlet_scope(), _year()
    if request.args.get("format") == "xlsx":
        if year is None:
            return render_error(400, YEAR_MESSAGE)
        rows = outlet_rows(scope.outlet, year, local_today())
        return xlsx_response(
            gettext("积分台账-%(outlet)s-%(year)s.xlsx", outlet=scope.outlet.code, year=year),
            [(str(year), [str(h) for h in OUTLET_HEADER], [_outlet_cells(r) for r in rows])])
    return _show_outlet(scope, year)


@bp.post("/outlet/training")
@role_required(MANAGER)
def training():
    """下岗培训合格: the outlet manager records it for a person in warning."""
    scope, today = outlet_scope(), local_today()
    form = _training_form(outlet_rows(scope.outlet, today.year, today), TrainingForm())
    if form is None:
        flash(gettext("本网点目前没有处于戒勉状态的人员。"), "error")
        return redirect(url_for("ledger.outlet"), 303)
    if not form.validate():
        return _show_outlet(scope, today.year, form, 400)
    person = person_by_work_no(form.person.data)
    services.record_training(person, form.passed_on.data, form.note.data, current_user, utcnow())
    db.session.commit()
    flash(gettext("已记录 %(name)s 培训合格。", name=person.name), "success")
    return redirect(url_for("ledger.outlet"), 303)


# --- proposals from other features --------------------------------------------------------------

def _proposals_query():
    query = (select(PointsProposal).join(OrgUnit, OrgUnit.id == PointsProposal.org_unit_id)
             .where(PointsProposal.status == PROPOSAL_OPEN))
    if current_user.role == MANAGER:
        query = query.where(PointsProposal.org_unit_id == current_user.org_unit_id)
    else:
        query = query.where(OrgUnit.path.startswith(scope_unit(current_user).path,
                                                    autoescape=True))
    return query.order_by(PointsProposal.created_at, PointsProposal.id)


def _show_proposals(failed: dict | None = None, errors: dict | None = None, status: int = 200):
    page = db.paginate(_proposals_query(), page=page_number(request.args.get("page", type=int)),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    forms = {p.id: {"confirm": ProposalForm(formdata=None, prefix=form_prefix("confirm", p.id)),
                    "dismiss": DismissForm(formdata=None, prefix=form_prefix("dismiss", p.id))}
             for p in page.items if can_decide_proposal(current_user, p)}
    for proposal_id, form in (failed or {}).items():
        forms.setdefault(proposal_id, {})["dismiss"] = form
    return render_template("ledger/proposals.html", page=page, forms=forms,
                           errors=errors or {}), status


PROPOSAL_HEADER = (_l("提出日期"), _l("网点"), _l("工号"), _l("姓名"), _l("条款"), _l("分值"),
                   _l("金额(元)"), _l("事由"), _l("依据"))


@bp.get("/proposals")
@role_required(*DECIDERS)
def proposals():
    """积分建议: what ratings, complaints and the checklist propose, oldest first."""
    if request.args.get("format") == "xlsx":
        found = db.session.scalars(_proposals_query().limit(EXPORT_ROWS)).all()
        rows = [[local_today(p.created_at), p.person.org_unit.name, p.person.work_no,
                 p.person.name, p.rule_code, float(p.points), float(p.money), p.reason,
                 evidence(p)[0]] for p in found]
        return xlsx_response(gettext("积分建议.xlsx"),
                             [(gettext("待确认的建议"), [str(h) for h in PROPOSAL_HEADER], rows)])
    return _show_proposals()


def _proposal_or_404(proposal_id: int) -> PointsProposal:
    proposal = db.session.scalar(select(PointsProposal).where(PointsProposal.id == proposal_id)
                                 .with_for_update(of=PointsProposal)
                                 .execution_options(populate_existing=True))
    if proposal is None or not can_decide_for(current_user, proposal_unit(proposal)):
        abort(404)
    if not can_decide_proposal(current_user, proposal):
        abort(403)
    return proposal


@bp.post("/proposals/<int:proposal_id>/confirm")
@role_required(*DECIDERS)
def proposal_confirm(proposal_id: int):
    """确认 a proposal: it becomes a confirmed entry (doubling and manager charges apply)."""
    proposal = _proposal_or_404(proposal_id)
    try:
        with services.guarded():
            entry = services.confirm_proposal(proposal, current_user, utcnow())
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _show_proposals(errors={proposal_id: gettext(
            "无法确认:%(reason)s 建议保持待确认,可由文优办调整条款金额后再确认,或驳回。",
            reason=str(error.message))}, status=error.status)
    flash(gettext("已确认,计入 %(name)s 的积分台账(%(points)s 分)。", name=entry.person.name,
                  points=points_text(entry.points)), "success")
    return redirect(url_for("ledger.proposals"), 303)


@bp.post("/proposals/<int:proposal_id>/dismiss")
@role_required(*DECIDERS)
def proposal_dismiss(proposal_id: int):
    """驳回 a proposal, with a note."""
    proposal = _proposal_or_404(proposal_id)
    form = DismissForm(prefix=form_prefix("dismiss", proposal_id))
    if not form.validate():
        db.session.rollback()
        return _show_proposals(failed={proposal_id: form}, status=400)
    try:
        services.dismiss_proposal(proposal, current_user, form.note.data, utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _show_proposals(errors={proposal_id: str(error.message)}, status=400)
    flash(gettext("已驳回该建议。"), "success")
    return redirect(url_for("ledger.proposals"), 303)


# --- the rule catalogue ------------------------------------------------------------------------

RULE_HEADER = (_l("条款"), _l("类别"), _l("内容"), _l("分值"), _l("金额(元)"), _l("网点负责人连带"))
RULE_SHEET_HEADER = (_l("条款"), _l("类别"), _l("内容"), _l("分值下限"), _l("分值上限"),
                     _l("金额下限(元)"), _l("金额上限(元)"), _l("网点负责人连带"))


def manager_text(rule) -> str:
    if rule.pileup:
        return gettext("同日3人次及以上:-1 分,¥50")
    if rule.manager_points:
        return f"{range_text(rule.manager_points)}, {money_range(rule.manager_money)}"
    if rule.kind == services.DEDUCTION:
        return gettext("管理责任:同等;否则 50%")
    return ""


def _rule_cells(rule) -> list:
    amounts = ((gettext("由录入人确定"),) * 2 if rule.recorder_sets
               else (range_text(rule.points), money_range(rule.money)))
    return [rule.code, str(KIND_LABELS[rule.kind]), rule.title, *amounts, manager_text(rule)]


def _rule_line(rule) -> list:
    """A rule as a spreadsheet row: the ranges as numbers (empty where the recorder sets them)."""
    amounts = [None] * 4 if rule.recorder_sets else [
        float(v) for v in (*sorted(rule.points), *sorted(rule.money))]
    return [rule.code, str(KIND_LABELS[rule.kind]), rule.title, *amounts, manager_text(rule)]


@bp.get("/rules")
@role_required(*STAFF_ROLES)
def rules():
    """积分条款: the catalogue with the amounts in force; the service office may change them."""
    found = services.catalogue()
    if request.args.get("format") == "xlsx":
        return xlsx_response(gettext("积分条款.xlsx"), [(
            gettext("积分条款"), [str(h) for h in RULE_SHEET_HEADER],
            [_rule_line(rule) for rule in found])])
    rows = [(rule, _rule_cells(rule)) for rule in found]
    return render_template("ledger/rules.html", rows=rows, header=RULE_HEADER,
                           can_edit=current_user.role == OFFICE)


def _editable_rule(code: str):
    rule = services.RULES.get(code) if len(code) <= 10 else None
    if rule is None or rule.recorder_sets:
        abort(404)
    return services.rule_of(code)


@bp.route("/rules/<code>", methods=["GET", "POST"])
@role_required(OFFICE)
def rule_edit(code: str):
    """The service office's amounts of one rule: ranges that keep the rule's sign."""
    rule = _editable_rule(code)
    form = AmountsForm()
    if not form.is_submitted():
        form.points_low.data, form.points_high.data = sorted(rule.points)
        form.money_low.data, form.money_high.data = sorted(rule.money)
    else:
        valid = form.validate()
        points = (form.points_low.data, form.points_high.data)
        money = (form.money_low.data, form.money_high.data)
        problems = services.amounts_problems(rule, points, money)
        for name, message in problems.items():
            field = getattr(form, name)
            field.errors = list(field.errors) + [message]
        if valid and not problems:
            services.set_amounts(code, points, money, current_user, utcnow())
            db.session.commit()
            flash(gettext("已保存 %(code)s 的金额。", code=code), "success")
            return redirect(url_for("ledger.rules"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("ledger/rule_edit.html", rule=rule, form=form), status
