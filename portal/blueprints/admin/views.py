"""Admin pages: org units, people and their accounts, API tokens, the audit history."""
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user

from ...errors import DomainError
from ...htmx import render_page_or_partial
from ...models import ADMIN
from ...nav import register_nav
from ...permissions import get_person_or_404, get_unit_or_404, role_required
from ...timeutil import local_today
from ..api.services import create_token, revoke_token
from . import bp, queries, services
from .forms import (AuditFilterForm, PasswordResetForm, PeopleFilterForm, PersonEditForm,
                    PersonForm, PhotoForm, TokenForm, UnitEditForm, UnitForm)
from .photos import save_thumbnail

register_nav("admin.units", _l("机构"), (ADMIN,), order=80)
register_nav("admin.people", _l("人员"), (ADMIN,), order=81)
register_nav("admin.tokens", _l("接口令牌"), (ADMIN,), order=82)
register_nav("admin.audit", _l("操作记录"), (ADMIN,), order=83)


@bp.before_request
@role_required(ADMIN)
def admins_only():
    """Let only administrators in: others get 403, anonymous visitors go to sign in."""


def _see_other(endpoint: str, **values):
    return redirect(url_for(endpoint, **values), 303)


def _blame(form, error: DomainError) -> None:
    """Show a refused action's message next to its field, else above the form."""
    if error.field and error.field in form:
        form[error.field].errors.append(error.message)
    else:
        form.form_errors.append(error.message)


def _page_args() -> dict:
    return {"page": queries.page_number(request.args.get("page", type=int)),
            "per_page": current_app.config["PAGE_SIZE"]}


# --- org units --------------------------------------------------------------------------

@bp.get("/units")
def units():
    """Show the org tree of the admin's subtree."""
    tree = queries.unit_tree(current_user)
    root_depth = tree[0].depth if tree else 0
    return render_template("admin/units.html", units=tree, root_depth=root_depth)


@bp.route("/units/new", methods=["GET", "POST"])
def unit_new():
    """Create an org unit below one of the admin's units."""
    form = UnitForm(parents=queries.unit_tree(current_user))
    if form.validate_on_submit():
        try:
            unit = services.create_unit(form.code.data, form.name.data, form.kind.data,
                                        form.chosen_unit(), form.windows.data)
        except DomainError as error:
            _blame(form, error)
        else:
            flash(gettext("已新建机构 %(unit)s。", unit=str(unit)), "success")
            return _see_other("admin.units")
    return render_template("admin/unit_form.html", form=form, unit=None)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def unit_edit(unit_id: int):
    """Rename, move or resize an org unit (code and kind stay)."""
    unit = get_unit_or_404(unit_id)
    form = UnitEditForm(data={"name": unit.name, "parent": unit.parent_id, "windows": unit.windows},
                        parents=queries.parent_options(current_user, unit))
    if form.validate_on_submit():
        try:
            services.update_unit(unit, form.name.data, form.chosen_unit(), form.windows.data)
        except DomainError as error:
            _blame(form, error)
        else:
            flash(gettext("已保存机构 %(unit)s。", unit=str(unit)), "success")
            return _see_other("admin.units")
    return render_template("admin/unit_form.html", form=form, unit=unit)


# --- people -----------------------------------------------------------------------------

@bp.get("/people")
def people():
    """List the people of the admin's subtree; htmx searches get only the results."""
    filters = PeopleFilterForm(formdata=request.args)
    found = queries.people_page(current_user, q=filters.value("q"), role=filters.value("role"),
                                status=filters.value("status", "active"), **_page_args())
    return render_page_or_partial("admin/people.html", "admin/_people_results.html",
                                  filters=filters, pagination=found)


@bp.route("/people/new", methods=["GET", "POST"])
def person_new():
    """Create a person with a sign-in account."""
    form = PersonForm(units=queries.unit_tree(current_user))
    if form.validate_on_submit():
        try:
            person = services.create_person(form.work_no.data, form.name.data, form.role.data,
                                            form.chosen_unit(), form.joined_on.data,
                                            form.password.data)
        except DomainError as error:
            _blame(form, error)
        else:
            flash(gettext("已新建人员 %(person)s。", person=str(person)), "success")
            return _see_other("admin.person_detail", person_id=person.id)
    return render_template("admin/person_form.html", form=form, person=None)


def _detail(person, photo_form: PhotoForm | None = None, status: int = 200):
    history = queries.person_history(person)
    return render_template("admin/person_detail.html", person=person, events=history,
                           photo_form=photo_form or PhotoForm()), status


@bp.get("/people/<int:person_id>")
def person_detail(person_id: int):
    """Show a person's details, photo, status and audit history, with the account actions."""
    return _detail(get_person_or_404(person_id))


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
def person_edit(person_id: int):
    """Change a person's name, role, unit and joining date."""
    person = get_person_or_404(person_id)
    form = PersonEditForm(data={"name": person.name, "role": person.role,
                                "org_unit": person.org_unit_id, "joined_on": person.joined_on},
                          units=queries.unit_tree(current_user))
    if form.validate_on_submit():
        try:
            services.update_person(person, form.name.data, form.role.data, form.chosen_unit(),
                                   form.joined_on.data)
        except DomainError as error:
            _blame(form, error)
        else:
            flash(gettext("已保存 %(person)s 的资料。", person=str(person)), "success")
            return _see_other("admin.person_detail", person_id=person.id)
    return render_template("admin/person_form.html", form=form, person=person)


def _set_active(person_id: int, active: bool):
    person = get_person_or_404(person_id)
    try:
        services.set_active(person, active, actor=current_user)
    except DomainError as error:
        flash(str(error.message), "error")
    else:
        message = _l("账户已启用。") if active else _l("账户已停用,其所有登录已失效。")
        flash(str(message), "success")
    return _see_other("admin.person_detail", person_id=person.id)


@bp.post("/people/<int:person_id>/deactivate")
def person_deactivate(person_id: int):
    """Deactivate a person: they can no longer sign in and their sessions end."""
    return _set_active(person_id, False)


@bp.post("/people/<int:person_id>/activate")
def person_activate(person_id: int):
    """Let a deactivated person sign in again."""
    return _set_active(person_id, True)


@bp.route("/people/<int:person_id>/password", methods=["GET", "POST"])
def person_password(person_id: int):
    """Set a new password for a person; their sessions end and a lock is lifted."""
    person = get_person_or_404(person_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            services.reset_password(person, form.password.data)
        except DomainError as error:
            _blame(form, error)
        else:
            flash(gettext("已为 %(person)s 设置新密码。", person=str(person)), "success")
            return _see_other("admin.person_detail", person_id=person.id)
    return render_template("admin/person_password.html", form=form, person=person)


@bp.post("/people/<int:person_id>/photo")
def person_photo(person_id: int):
    """Store a checked, re-encoded photo of a person."""
    person = get_person_or_404(person_id)
    form = PhotoForm()
    if not form.validate_on_submit():
        return _detail(person, photo_form=form, status=400)
    folder = Path(current_app.instance_path) / "photos"
    services.set_photo(person, save_thumbnail(form.photo.data.stream, folder, person.id))
    flash(gettext("照片已更新。"), "success")
    return _see_other("admin.person_detail", person_id=person.id)


# --- API tokens -------------------------------------------------------------------------

def _tokens_page(form: TokenForm, plain: str | None = None):
    return render_template("admin/tokens.html", form=form, tokens=queries.all_tokens(), plain=plain)


@bp.get("/tokens")
def tokens():
    """List the API tokens, with a form to make one."""
    return _tokens_page(TokenForm())


@bp.post("/tokens")
def token_create():
    """Make an API token and show it this once."""
    form = TokenForm()
    if form.validate_on_submit():
        try:
            _, plain = create_token(form.name.data, actor=current_user)
        except DomainError as error:
            _blame(form, error)
        else:
            return _tokens_page(TokenForm(formdata=None), plain=plain)
    return _tokens_page(form)


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int):
    """Revoke an API token; the row stays for the record."""
    token = queries.token_or_none(token_id)
    if token is None:
        abort(404)
    revoke_token(token, actor=current_user)
    flash(gettext("令牌“%(name)s”已作废。", name=token.name), "success")
    return _see_other("admin.tokens")


# --- audit history ----------------------------------------------------------------------

@bp.get("/audit")
def audit():
    """Show the audit history of a range of days, newest first, filtered by action prefix
    and actor."""
    filters = AuditFilterForm(formdata=request.args)
    events = queries.audit_page(current_user, days=filters.days(local_today()),
                                action=filters.value("q"), actor=filters.value("actor"),
                                **_page_args())
    return render_template("admin/audit.html", filters=filters, pagination=events)
