"""The home page of each role, the health check and staff photos."""
from pathlib import Path

from flask import abort, current_app, render_template, send_file
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import text

from ...extensions import db
from ...models import ADMIN, MANAGER, OFFICE
from ...nav import register_nav
from ...panels import panels_for
from ...permissions import STAFF_ROLES, get_person_or_404, role_required
from ...xlsx import xlsx_response
from . import bp
from .services import admin_summary, outlet_staff, outlets_overview

register_nav("home.index", _l("首页"), STAFF_ROLES, order=0)


@bp.get("/")
@login_required
def index():
    """Show the home page of the signed-in person's role."""
    role, panels = current_user.role, panels_for(current_user)
    if role == MANAGER:
        return render_template("home/manager.html", panels=panels,
                               staff=outlet_staff(current_user.org_unit))
    if role == OFFICE:
        return render_template("home/office.html", panels=panels,
                               outlets=outlets_overview(current_user))
    if role == ADMIN:
        return render_template("home/admin.html", panels=panels,
                               summary=admin_summary(current_user))
    return render_template("home/teller.html", panels=panels)


@bp.get("/home.xlsx")
@role_required(MANAGER, OFFICE)
def index_xlsx():
    """The home page's table as .xlsx: the manager's staff, the office's outlets."""
    if current_user.role == MANAGER:
        staff = outlet_staff(current_user.org_unit)
        return xlsx_response(gettext("本网点人员.xlsx"), [(gettext("本网点人员"), [
            gettext("工号"), gettext("姓名"), gettext("岗位"), gettext("入职日期"), gettext("状态")],
            [[p.work_no, p.name, p.role_label, p.joined_on,
              gettext("在岗") if p.active else gettext("已停用")] for p in staff])])
    outlets = outlets_overview(current_user)
    return xlsx_response(gettext("辖内网点.xlsx"), [(gettext("辖内网点"), [
        gettext("网点代码"), gettext("网点名称"), gettext("窗口数"), gettext("在岗人数"),
        gettext("网点负责人")],
        [[r["unit"].code, r["unit"].name, r["unit"].windows, r["staff"],
          r["manager"].name if r["manager"] else gettext("未设置")] for r in outlets])])


@bp.get("/healthz")
def healthz():
    """Answer 200 ok when the database answers."""
    db.session.execute(text("SELECT 1"))
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/people/<int:person_id>/photo")
@login_required
def photo(person_id: int):
    """Serve a staff photo to people allowed to see that person."""
    person = get_person_or_404(person_id)
    if not person.photo:
        abort(404)
    path = Path(current_app.instance_path) / "photos" / person.photo
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=300)
