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
from ...templating import localtime
from ...timeutil import utcnow
from ...xlsx import xlsx_response
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


ITEM_HEADER = (_l("序号"), _l("类别"), _l("检查内容"), _l("扣分条款"))
VERSION_HEADER = (_l("版本"), _l("保存时间"), _l("保存人"), _l("修改说明"))


def _item_lines(template: ChecklistTemplate) -> list[list]:
    return [[item.number, item.category, item.text,
             str(rule_label(item.rule_code)) if item.rule_code else gettext("不扣分")]
            for item in template.items]


@bp.get("/template.xlsx")
@role_required(OFFICE)
def template_xlsx():
    """The version in force (its 20 items) and every version, as .xlsx."""
    current = services.current_template()
    versions = db.session.scalars(
        select(ChecklistTemplate)
        .options(lazyload(ChecklistTemplate.items), joinedload(ChecklistTemplate.created_by))
        .order_by(ChecklistTemplate.version.desc())).all()
    lines = [[v.version, localtime(v.created_at), v.created_by.name if v.created_by
              else gettext("系统"), v.note] for v in versions]
    return xlsx_response(gettext("清单模板.xlsx"), [
        (gettext("现行第 %(version)d 版", version=current.version),
         [str(h) for h in ITEM_HEADER], _item_lines(current)),
        (gettext("历史版本"), [str(h) for h in VERSION_HEADER], lines)])


@bp.get("/template/<int:version>.xlsx")
@role_required(OFFICE)
def template_version_xlsx(version: int):
    """One version's 20 items as .xlsx."""
    found = db.session.scalar(select(ChecklistTemplate).where(
        ChecklistTemplate.version == version)) if version <= MAX_VERSION else None
    if found is None:
        abort(404)
    return xlsx_response(
        gettext("清单模板第%(version)d版.xlsx", version=version),
        [(gettext("第 %(version)d 版", version=version), [str(h) for h in ITEM_HEADER],
          _item_lines(found))])
