"""The home page of each role, the health check and staff photos."""
from pathlib import Path

from flask import abort, current_app, render_template, send_file
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import text

from ...extensions import db
from ...models import ADMIN, MANAGER, OFFICE
from ...nav import register_nav
from ...panels import panels_for
from ...permissions import STAFF_ROLES, get_person_or_404
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
