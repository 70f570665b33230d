"""Staff pages: the complaint list, intake, one complaint with its actions, the home panel."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db
from ...htmx import is_htmx
from ...models import LOBBY, MANAGER, OFFICE, TELLER, OrgUnit, Person
from ...nav import register_nav
from ...panels import register_panel
from ...permissions import role_required, scope_unit
from ...security import passive
from ...templating import localtime
from ...timeutil import utcnow
from ...xlsx import xlsx_response
from ..admin.forms import options
from ..admin.queries import page_number
from . import bp, services
from .forms import (CALLBACK_LABELS, CATEGORY_LABELS, CHANNEL_LABELS, FINDING_LABELS,
                    LEVEL_LABELS, STATUS_LABELS, ActionForm, CallbackForm, DecideForm,
                    DeclineForm, ExtendForm, GrievanceForm, IntakeForm, NoteForm, RespondForm,
                    TransferForm)
from .models import OPEN_STATUSES, Complaint

STAFF = (TELLER, LOBBY, MANAGER, OFFICE)
INTAKE = (LOBBY, MANAGER, OFFICE)
PANEL_ROWS = 10
EXPORT_ROWS = 5000
LABELS = {"statuses": STATUS_LABELS, "channels": CHANNEL_LABELS, "categories": CATEGORY_LABELS,
          "levels": LEVEL_LABELS, "findings": FINDING_LABELS, "callbacks": CALLBACK_LABELS}

EVENTS = {
    "create": _l("受理"), "import": _l("导入"), "respond": _l("首次响应"), "note": _l("内部记录"),
    "reply": _l("公开答复"), "transfer": _l("转办"), "accept": _l("接收转办"),
    "decline": _l("退回转办"), "return": _l("超时未接收,退回"), "extend": _l("延期"),
    "decide": _l("办结"), "callback": _l("回访"), "reopen": _l("回访不满意,重新打开"), "close": _l("关闭"),
    "escalate_response": _l("超过1小时未响应,已升级至网点负责人"),
    "escalate_decision": _l("超过处理时限未办结,已升级至文优办"), "nominate": _l("推荐委屈奖"),
}

register_nav("complaints.index", _l("投诉处理"), STAFF, order=20)


@bp.app_template_global()
def event_name(action: str) -> str:
    return str(EVENTS.get(action, action))


def desk_context(user) -> dict:
    """The home panel: open complaints on the person's desk with their clocks."""
    now = utcnow()
    return {"desk": services.open_for(user, now, PANEL_ROWS), "now": now,
            "can_intake": user.role in INTAKE, **LABELS}


register_panel("complaints/_desk_panel.html", STAFF, desk_context, order=15)


@bp.app_template_global()
def complaint_clock(complaint: Complaint, now) -> dict | None:
    """The running clock of a complaint as a page shows it: what, time left, overdue."""
    running = services.remaining(complaint, now)
    if running is None:
        return None
    clock, left = running
    minutes = int(left.total_seconds() // 60)
    return {"clock": clock, "overdue": minutes < 0, "days": abs(minutes) // 1440,
            "hours": abs(minutes) % 1440 // 60, "minutes": abs(minutes) % 60}


@bp.get("/desk")
@passive
@role_required(*STAFF)
def desk():
    """The home panel's table alone, refreshed by htmx every minute (remaining time)."""
    if not is_htmx():
        return redirect(url_for("home.index"))
    return render_template("complaints/_desk_table.html", **desk_context(current_user))


DESK_HEADER = (_l("单号"), _l("网点"), _l("状态"), _l("处理人"), _l("剩余时间"), _l("推诿风险"),
               _l("待我接收"))


def clock_text(complaint: Complaint, now) -> str:
    """The running clock as the desk shows it ("办结 剩余 3天2小时5分"), or ""."""
    c = complaint_clock(complaint, now)
    if c is None:
        return ""
    what = gettext("响应") if c["clock"] == "response" else gettext("办结")
    state = gettext("已超时") if c["overdue"] else gettext("剩余")
    days = gettext("%(days)d天", days=c["days"]) if c["days"] else ""
    return f"{what} {state} {days}" + gettext("%(hours)d小时%(minutes)d分", hours=c["hours"],
                                              minutes=c["minutes"])


@bp.get("/desk.xlsx")
@role_required(*STAFF)
def desk_xlsx():
    """The home panel's open complaints (all of them, not only the first ten) as .xlsx."""
    now, yes = utcnow(), gettext("是")
    found = services.open_for(current_user, now, EXPORT_ROWS)
    rows = [[c.ticket, c.outlet.name, str(STATUS_LABELS[c.status]),
             c.handler.name if c.handler else "", clock_text(c, now),
             yes if c.buck_passing else "", yes if c.transfer_to_id == current_user.id else ""]
            for c in found]
    return xlsx_response(gettext("待办投诉.xlsx"),
                         [(gettext("待办投诉"), [str(h) for h in DESK_HEADER], rows)])


# --- the list -------------------------------------------------------------------------------

@bp.get("/")
@role_required(*STAFF)
def index():
    """All complaints the person may see, newest first, filtered by status."""
    state = request.args.get("status", "open")
    query = select(Complaint).join(Complaint.outlet).where(services.visible_to(current_user))
    if state == "open":
        query = query.where(Complaint.status.in_(OPEN_STATUSES))
    elif state in STATUS_LABELS:
        query = query.where(Complaint.status == state)
    else:
        state = "all"
    text = (request.args.get("q") or "").strip()[:40]
    if text:
        query = query.where(Complaint.ticket.contains(text.upper(), autoescape=True))
    query = query.options(*services.WITH_PEOPLE).order_by(Complaint.received_at.desc(),
                                                          Complaint.id.desc())
    if request.args.get("format") == "xlsx":
        return _list_xlsx(db.session.scalars(query.limit(EXPORT_ROWS)).all(), state)
    page = db.paginate(query, page=page_number(request.args.get("page", type=int)),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("complaints/index.html", page=page, state=state, q=text,
                           now=utcnow(), can_intake=current_user.role in INTAKE, **LABELS)


LIST_HEADER = (_l("单号"), _l("受理时间"), _l("网点"), _l("渠道"), _l("类别"), _l("投诉层级"),
               _l("状态"), _l("调查结论"), _l("首问责任人"), _l("处理人"), _l("转办次数"),
               _l("响应时间"), _l("办结时间"), _l("回访结果"))


def _list_xlsx(complaints: list[Complaint], state: str):
    """The complaint list as .xlsx (at most EXPORT_ROWS rows, newest first)."""
    def name(person):
        return person.name if person else ""

    rows = [[c.ticket, localtime(c.received_at), c.outlet.name, CHANNEL_LABELS[c.channel],
             CATEGORY_LABELS[c.category], LEVEL_LABELS[c.level], STATUS_LABELS[c.status],
             FINDING_LABELS[c.finding] if c.finding else "", name(c.first_owner), name(c.handler),
             c.transfers, localtime(c.responded_at), localtime(c.decided_at),
             CALLBACK_LABELS[c.callback] if c.callback else ""] for c in complaints]
    return xlsx_response(gettext("投诉列表-%(state)s.xlsx", state=state),
                         [(gettext("投诉"), list(LIST_HEADER), rows)])


# --- intake ---------------------------------------------------------------------------------

def _intake_outlets() -> list[OrgUnit]:
    if current_user.role != OFFICE:
        return [current_user.org_unit]
    return list(db.session.scalars(
        select(OrgUnit).where(OrgUnit.kind == "outlet", OrgUnit.active,
                              OrgUnit.path.startswith(scope_unit(current_user).path,
                                                      autoescape=True))
        .order_by(OrgUnit.code)))


@bp.route("/intake", methods=["GET", "POST"])
@role_required(*INTAKE)
def intake():
    """受理登记: a complaint received in person, by phone, in the book, from above or media.

    The recording employee becomes the first-contact owner.
    """
    outlets = {outlet.code: outlet for outlet in _intake_outlets()}
    form = IntakeForm()
    form.outlet.choices = options(None, {code: f"{o.name}({code})" for code, o in outlets.items()})
    outlet = outlets.get(form.outlet.data or "") or next(iter(outlets.values()), None)
    staff = services.responsible_candidates_of(outlet) if outlet else []
    form.subject.choices = options(_l("不指定"), people_labels(staff))
    if not form.is_submitted() and outlet is not None:
        form.outlet.data = outlet.code
    if form.validate_on_submit():
        subject = next((p for p in staff if p.work_no == form.subject.data), None)
        if form.subject.data and subject is None:
            form.subject.errors.append(_l("请选择该网点的人员。"))
        else:
            complaint = services.create(services.NewComplaint(
                channel=form.channel.data, outlet=outlet, category=form.category.data,
                description=form.description.data, customer_name=form.customer_name.data or "",
                customer_phone=form.customer_phone.data or "",
                window_number=form.window_number.data, subject=subject, level=form.level.data),
                recorder=current_user, now=utcnow())
            db.session.commit()
            flash(gettext("投诉已登记,单号 %(ticket)s。您是首问责任人。", ticket=complaint.ticket),
                  "success")
            return redirect(url_for("complaints.detail", complaint_id=complaint.id), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("complaints/intake.html", form=form), status


# --- one complaint --------------------------------------------------------------------------

def people_labels(people) -> dict[str, str]:
    return {person.work_no: f"{person.work_no} {person.name}" for person in people}


def _complaint_or_404(complaint_id: int) -> Complaint:
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or not services.can_view(current_user, complaint):
        abort(404)
    return complaint


def _forms(complaint: Complaint, now) -> dict:
    """The action forms the viewer may use on the complaint in its present state."""
    user, status = current_user, complaint.status
    handle, forms = services.can_handle(user, complaint), {}
    waiting = complaint.transfer_to_id is not None and not services.transfer_expired(complaint, now)
    if handle and status == "new":
        forms["respond"] = RespondForm()
    if services.can_note(user, complaint) and complaint.is_open:
        forms["note"] = NoteForm()
    if handle and status in ("new", "handling") and not waiting:
        form = TransferForm()
        form.receiver.choices = options(_l("请选择"), {
            p.work_no: f"{p.work_no} {p.name}({p.role_label})"
            for p in services.transfer_targets(complaint)})
        forms["transfer"] = form
    if waiting and complaint.transfer_to_id == user.id:
        forms["accept"], forms["decline"] = ActionForm(), DeclineForm()
    if handle and status in ("new", "handling") and not complaint.extended \
            and now <= complaint.decision_due:
        forms["extend"] = ExtendForm()
    if handle and status == "handling":
        form = DecideForm()
        form.responsible.choices = options(
            None, people_labels(services.responsible_candidates(complaint)))
        forms["decide"] = form
    if handle and status == "decided":
        forms["callback"] = CallbackForm()
    if handle and (status == "called_back" or (status == "decided" and complaint.anonymous)):
        forms["close"] = ActionForm()
    if handle and complaint.finding == "not_upheld" and user.role in (MANAGER, OFFICE):
        form = GrievanceForm()
        form.person.choices = options(_l("请选择"),
                                      people_labels(services.responsible_candidates(complaint)))
        forms["nominate"] = form
    for form in forms.values():
        form.version.data = str(complaint.version)
    return forms


def _show(complaint: Complaint, forms: dict | None = None, status: int = 200):
    now = utcnow()
    shown = _forms(complaint, now)
    shown.update(forms or {})
    return render_template("complaints/detail.html", complaint=complaint, forms=shown, now=now,
                           events=services.history(complaint), **LABELS), status


@bp.get("/<int:complaint_id>")
@role_required(*STAFF)
def detail(complaint_id: int):
    return _show(_complaint_or_404(complaint_id))


def _person(work_no: str | None) -> Person | None:
    if not work_no or len(work_no) > 20:
        return None
    return db.session.scalar(select(Person).where(Person.work_no == work_no))


ACTIONS = {
    "respond": (RespondForm, lambda c, f, now: services.respond(c, current_user, f.text.data, now),
                _l("已记录首次响应。")),
    "note": (NoteForm, lambda c, f, now: services.add_note(c, current_user, f.text.data,
                                                           f.public.data, now),
             _l("已添加记录。")),
    "transfer": (TransferForm, lambda c, f, now: services.transfer(
        c, current_user, _person(f.receiver.data), f.reason.data, now), _l("已转办,等待对方接收。")),
    "accept": (ActionForm, lambda c, f, now: services.accept(c, current_user, now),
               _l("已接收该投诉。")),
    "decline": (DeclineForm, lambda c, f, now: services.decline(c, current_user, f.reason.data, now),
                _l("已退回转出人。")),
    "extend": (ExtendForm, lambda c, f, now: services.extend(c, current_user, f.reason.data, now),
               _l("处理时限已延长至30天。")),
    "decide": (DecideForm, lambda c, f, now: services.decide(
        c, current_user, f.finding.data, [p for p in map(_person, f.responsible.data) if p],
        f.reply.data, now), _l("已办结。")),
    "callback": (CallbackForm, lambda c, f, now: services.call_back(
        c, current_user, f.result.data, f.text.data or "", now), _l("已记录回访结果。")),
    "close": (ActionForm, lambda c, f, now: services.close(c, current_user, now),
              _l("投诉已关闭。")),
    "nominate": (GrievanceForm, lambda c, f, now: services.nominate_grievance(
        c, current_user, _person(f.person.data) or current_user, f.citation.data, now),
        _l("已推荐委屈奖,待积分台账确认。")),
}


@bp.post("/<int:complaint_id>/<action>")
@role_required(*STAFF)
def act(complaint_id: int, action: str):
    """One action on a complaint; refused with the reason next to the form, or 409 when the
    complaint changed since the page was shown."""
    if action not in ACTIONS:
        abort(404)
    complaint = _complaint_or_404(complaint_id)
    now = utcnow()
    form_class, run, done = ACTIONS[action]
    form = form_class()
    try:
        with services.guarded():
            services.check_version(complaint, form.seen_version)
            allowed = _forms(complaint, now)
            if action not in allowed:
                abort(403)
            for name in ("receiver", "person", "responsible"):
                if hasattr(form, name):
                    getattr(form, name).choices = getattr(allowed[action], name).choices
            if not form.validate():
                return _show(complaint, {action: form}, 400)
            run(complaint, form, now)
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if error.status == 409:
            flash(error.message, "error")
            return _show(db.session.get(Complaint, complaint_id), status=409)
        target = getattr(form, error.field, None) if error.field else None
        if target is not None:
            target.errors = list(target.errors) + [error.message]
        else:
            form.form_errors.append(error.message)
        return _show(complaint, {action: form}, 400)
    flash(str(done), "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint.id), 303)


# --- a low rating becomes a complaint ---------------------------------------------------------

@bp.post("/from-rating/<int:rating_id>")
@role_required(MANAGER)
def from_rating(rating_id: int):
    """转为投诉: the outlet manager turns a low rating into a complaint in one step."""
    from ..ratings import services as ratings_services

    rating = ratings_services.get_rating_or_404(rating_id, current_user)
    existing = services.exists_for_rating(rating.id)
    if existing is None:
        existing = services.from_rating(rating, current_user, utcnow())
        db.session.commit()
        flash(gettext("已转为投诉,单号 %(ticket)s。", ticket=existing.ticket), "success")
    return redirect(url_for("complaints.detail", complaint_id=existing.id), 303)
