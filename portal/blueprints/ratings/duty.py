"""The teller's window (上岗 / 下岗, the dynamic code, the customer screen) and the QR codes."""
import segno
from flask import (abort, current_app, flash, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db
from ...htmx import hx_redirect, is_htmx, render_page_or_partial
from ...models import LOBBY, MANAGER, OFFICE, TELLER, OrgUnit, unit_by_code
from ...nav import register_nav
from ...permissions import in_scope, role_required, scoped_units
from ...templating import localtime
from ...timeutil import utcnow
from ...xlsx import xlsx_response
from . import bp, services
from .forms import OpenWindowForm
from .models import Window

DUTY_ROLES = (TELLER, LOBBY, MANAGER)

register_nav("ratings.window", _l("我的窗口"), DUTY_ROLES, order=10)
register_nav("ratings.qr_codes", _l("评价二维码"), (MANAGER,), order=30)


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as a scalable SVG ``data:`` URI, black on white."""
    return segno.make(url, error="m").svg_data_uri(border=4, omitsize=True, light="#fff",
                                                   svgclass=None, lineclass=None)


def rating_url(window: Window, code: str | None = None) -> str:
    """The absolute address of a window's rating page (with a dynamic code, if given)."""
    return current_app.config["BASE_URL"] + url_for("ratings.rate", token=window.token, code=code)


def _code_context() -> dict:
    """The signed-in person's duty, its unused dynamic code and that code's QR."""
    duty = services.current_duty(current_user)
    invitation = services.current_invitation(duty) if duty is not None else None
    qr = qr_data_uri(rating_url(duty.window, invitation.code)) if invitation else None
    return {"duty": duty, "qr": qr}


def _vary(response):
    response = make_response(response)
    response.vary.add("HX-Request")
    return response


def _window_page(windows: list[Window], form: OpenWindowForm, status: int = 200):
    page = render_template("ratings/window.html", windows=windows, form=form, **_code_context())
    return _vary((page, status))


def _done(message: str):
    """Go back to the window page: HX-Redirect for htmx, 303 otherwise."""
    flash(message, "success")
    target = url_for("ratings.window")
    return _vary(hx_redirect(target) if is_htmx() else redirect(target, 303))


def _refused(error: DomainError):
    """Say why an action was refused: a fragment with its status for htmx, flash otherwise."""
    if is_htmx():
        page = render_template("ratings/_window_error.html", messages=[error.message])
        return _vary((page, error.status))
    flash(error.message, "error")
    return _vary(redirect(url_for("ratings.window"), 303))


@bp.get("/ratings/window")
@role_required(*DUTY_ROLES)
def window():
    """Show the outlet's windows and who is on duty, with the person's own duty and code."""
    windows = services.outlet_windows(current_user.org_unit)
    return _window_page(windows, OpenWindowForm(windows=windows))


WINDOW_HEADER = (_l("窗口"), _l("在岗柜员"), _l("工号"), _l("开启时间"))


@bp.get("/ratings/window.xlsx")
@role_required(*DUTY_ROLES)
def window_xlsx():
    """The outlet's windows and who is on duty at each, as .xlsx."""
    rows = []
    for w in services.outlet_windows(current_user.org_unit):
        on = w.duty
        rows.append([w.number, on.person.name if on else gettext("未开启"),
                     on.person.work_no if on else "", localtime(on.opened_at) if on else ""])
    return xlsx_response(gettext("窗口-%(outlet)s.xlsx", outlet=current_user.org_unit.code),
                         [(gettext("本网点窗口"), [str(h) for h in WINDOW_HEADER], rows)])


@bp.post("/ratings/window/open")
@role_required(*DUTY_ROLES)
def window_open():
    """Open a window of the person's own outlet for rating (上岗)."""
    windows = services.outlet_windows(current_user.org_unit)
    form = OpenWindowForm(windows=windows)
    if not form.validate_on_submit():
        if is_htmx():
            page = render_template("ratings/_window_error.html",
                                   messages=[m for errors in form.errors.values() for m in errors])
            return _vary((page, 400))
        return _window_page(windows, form, 400)
    try:
        duty = services.open_window(current_user, form.chosen_window(), utcnow())
    except DomainError as error:
        return _refused(error)
    return _done(gettext("已开启 %(number)d 号窗口的评价。", number=duty.window.number))


@bp.post("/ratings/window/close")
@role_required(*DUTY_ROLES)
def window_close():
    """End the person's duty (下岗): the window stops accepting ratings."""
    try:
        services.close_window(current_user, utcnow())
    except DomainError as error:
        return _refused(error)
    return _done(gettext("已下岗,窗口已停止接受评价。"))


@bp.post("/ratings/window/invite")
@role_required(*DUTY_ROLES)
def window_invite():
    """Show a fresh single-use code on the customer screen (请评价)."""
    try:
        services.invite(current_user, utcnow())
    except DomainError as error:
        return _refused(error)
    return _done(gettext("已生成新的评价码,请客户扫码评价。"))


@bp.get("/ratings/window/code")
@role_required(*DUTY_ROLES)
def window_code():
    """Show the current dynamic code; the fragment refreshes itself every few seconds."""
    return render_page_or_partial("ratings/window_code.html", "ratings/_code.html",
                                  **_code_context())


@bp.get("/ratings/window/screen")
@role_required(*DUTY_ROLES)
def window_screen():
    """Show the customer-facing screen: the big dynamic code and who is serving."""
    return render_template("ratings/window_screen.html", **_code_context())


def _qr_outlet(code: str | None) -> OrgUnit | None:
    """The outlet whose codes to show: the manager's own; for the office, ``code`` in scope."""
    if current_user.role == MANAGER:
        if code and code != current_user.org_unit.code:
            abort(404)
        return current_user.org_unit
    if not code:
        return None
    unit = unit_by_code(code)
    if unit is None or unit.kind != "outlet" or not in_scope(current_user, unit):
        abort(404)
    return unit


def _outlets_in_scope() -> list[OrgUnit]:
    query = select(OrgUnit).where(OrgUnit.kind == "outlet", OrgUnit.active.is_(True))
    return list(db.session.scalars(scoped_units(query, current_user).order_by(OrgUnit.path)))


@bp.get("/ratings/qr")
@role_required(MANAGER, OFFICE)
def qr_codes():
    """Show an outlet's window QR codes ready to print (the office first picks an outlet)."""
    outlet = _qr_outlet(request.args.get("outlet"))
    if outlet is None:
        return render_template("ratings/qr_outlets.html", outlets=_outlets_in_scope())
    cards = [{"window": w, "url": rating_url(w), "qr": qr_data_uri(rating_url(w))}
             for w in services.outlet_windows(outlet)]
    return render_template("ratings/qr_codes.html", outlet=outlet, cards=cards,
                           can_replace=current_user.role == MANAGER)


@bp.post("/ratings/windows/<int:window_id>/token")
@role_required(MANAGER)
def window_token_replace(window_id: int):
    """Give a window of the manager's outlet a new QR code; the old printed one stops working."""
    window = db.session.get(Window, window_id)
    if window is None or window.outlet_id != current_user.org_unit_id:
        abort(404)
    services.replace_window_token(window)
    flash(gettext("已更换 %(number)d 号窗口的二维码,旧二维码已失效,请打印新码张贴。",
                  number=window.number), "success")
    return redirect(url_for("ratings.qr_codes"), 303)
