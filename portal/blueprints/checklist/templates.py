"""The service office's checklist template: edit texts, categories, deduction rules and the
order of the 20 items, each save a new version; earlier versions stay readable.

A day's sheet keeps the version it was opened with, so an edit changes only sheets opened
after it.
"""
import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload

from ...errors import DomainError
from ...extensions import db
from ...models import OFFICE
from ...nav import register_nav
from ...permissions import role_required
from ...timeutil import utcnow
from ..admin.queries import page_number
from . import bp, services
from .models import ChecklistTemplate
from .template_forms import TemplateForm, rule_label

logger = logging.getLogger(__name__)
MAX_VERSION = 10**6  # larger numbers in a URL are answered 404 without asking the database

register_nav("checklist.template", _l("清单模板"), (OFFICE,), order=41)


def _versions():
    """One page of the versions, newest first, without their items (two queries at most)."""
    query = (select(ChecklistTemplate)
             .options(lazyload(ChecklistTemplate.items), joinedload(ChecklistTemplate.created_by))
             .order_by(ChecklistTemplate.version.desc()))
    return db.paginate(query, page=page_number(request.args.get("page", type=int)),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)


def _save(form: TemplateForm) -> ChecklistTemplate | None:
    """Store the new version (one transaction); None with the reason on the form if refused."""
    try:
        saved = services.save_template(form.ordered(), current_user, form.note.data, utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
    except IntegrityError:  # another version was saved at the same moment
        db.session.rollback()
        logger.info("checklist template saved concurrently")
        form.form_errors.append(_l("清单模板刚被他人修改,请刷新页面后重新修改。"))
    else:
        return saved
    return None


@bp.route("/template", methods=["GET", "POST"])
@role_required(OFFICE)
def template():
    """Show the version in force as a form; a valid edit is saved as the next version."""
    current = services.current_template()
    form = TemplateForm(current=current)
    if form.is_submitted():
        valid = form.validate()
        if form.check() and valid and (saved := _save(form)):
            flash(gettext("已保存为第 %(version)d 版清单模板,此后新开的检查表将使用新版本。",
                          version=saved.version), "success")
            return redirect(url_for("checklist.template"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("checklist/template.html", form=form, current=current,
                           versions=_versions(), rule_label=rule_label), status


@bp.get("/template/<int:version>")
@role_required(OFFICE)
def template_version(version: int):
    """Show one version read-only, as sheets opened on it show their items."""
    found = db.session.scalar(select(ChecklistTemplate).where(
        ChecklistTemplate.version == version)) if version <= MAX_VERSION else None
    if found is None:
        abort(404)
    latest = db.session.scalar(select(ChecklistTemplate.version)
                               .order_by(ChecklistTemplate.version.desc()).limit(1))
    return render_template("checklist/template_version.html", template=found,
                           in_force=found.version == latest, rule_label=rule_label)
