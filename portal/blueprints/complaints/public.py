"""The customer's complaint form and status look-up: no sign-in, no JavaScript, rate-limited."""
from flask import current_app, make_response, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...errors import DomainError, public_error_pages, render_error
from ...extensions import db, limiter
from ...models import OrgUnit, Person, person_by_work_no
from ...security import log_security
from ...timeutil import utcnow
from ..admin.forms import options
from . import bp, services
from .forms import CATEGORY_LABELS, STATUS_LABELS, ComplaintForm, StatusForm

PUBLIC_ENDPOINTS = ("complaints.new", "complaints.thanks", "complaints.status")
LAST_TICKET = "complaint_ticket"


def _public_limit():
    return current_app.config["PUBLIC_RATE_LIMIT"]


def _outlets() -> list[OrgUnit]:
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "outlet", OrgUnit.active)
                                   .order_by(OrgUnit.code)))


def _teller(code: str | None, outlet: OrgUnit | None) -> Person | None:
    """The teller the customer came from (a rating's thank-you page), if they work there."""
    if not code or outlet is None or len(code) > 20:
        return None
    person = person_by_work_no(code.upper())  # None for a forged one holding NUL
    return person if person is not None and person.org_unit_id == outlet.id else None


def _message(status: int, title, message):
    return make_response(render_template("complaints/message.html", title=title,
                                         message=message), status)


@bp.route("/new", methods=["GET", "POST"])
@limiter.limit(_public_limit, methods=["POST"])
def new():
    """我要投诉: the public form, pre-filled with outlet, window and teller from a rating."""
    outlets = _outlets()
    by_code = {outlet.code: outlet for outlet in outlets}
    form = ComplaintForm()
    form.outlet.choices = options(_l("请选择"), {o.code: f"{o.name}({o.code})" for o in outlets})
    if not form.is_submitted():
        form.outlet.data = request.args.get("outlet", "")
        window = request.args.get("window", "")
        form.window_number.data = int(window) if window.isascii() and window.isdigit() \
            and 0 < int(window) < 100 else None
        form.teller.data = request.args.get("teller", "")
    outlet = by_code.get(form.outlet.data or "")
    teller = _teller(form.teller.data, outlet)
    if form.validate_on_submit():
        complaint = services.create(services.NewComplaint(
            channel="web", outlet=outlet, category=form.category.data,
            description=form.description.data, customer_name=form.customer_name.data or "",
            customer_phone=form.customer_phone.data or "", window_number=form.window_number.data,
            subject=teller), recorder=None, now=utcnow())
        db.session.commit()
        session[LAST_TICKET] = complaint.ticket
        return redirect(url_for("complaints.thanks"), 303)
    page = render_template("complaints/new.html", form=form, teller=teller)
    return make_response(page, 400 if form.is_submitted() else 200)


@bp.get("/thanks")
def thanks():
    """The ticket number of the complaint just made in this browser."""
    ticket = session.get(LAST_TICKET)
    if not ticket:
        return redirect(url_for("complaints.new"))
    return render_template("complaints/thanks.html", ticket=ticket)


@bp.route("/status", methods=["GET", "POST"])
@limiter.limit(_public_limit, methods=["POST"])
def status():
    """查询进度: the status and public replies, for the ticket and the phone's last four digits."""
    form = StatusForm()
    complaint, replies, missing = None, [], False
    if form.validate_on_submit():
        complaint = services.by_ticket(form.ticket.data, form.last_four.data)
        if complaint is None:
            missing = True
            log_security("complaint_lookup_miss")
        else:
            replies = services.history(complaint, public_only=True)
    page = render_template("complaints/status.html", form=form, complaint=complaint,
                           replies=replies, missing=missing, statuses=STATUS_LABELS,
                           categories=CATEGORY_LABELS)
    response = make_response(page, 400 if form.errors else 200)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(DomainError)
def refused(error: DomainError):
    return render_error(error.status, error.message)


public_error_pages(bp, PUBLIC_ENDPOINTS, _message, _l("页面已过期,请刷新后重新填写。"))
