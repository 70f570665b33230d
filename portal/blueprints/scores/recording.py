"""The service office's forms: the quarter's check scores of every outlet of its subtree in one
table, the sub-branches' management scores and bonuses in another, and the deduction settings.

Every form is checked as a whole before anything is saved: a bad value is answered 422 with the
message next to its cell and what was typed kept; a row changed by someone else since the page
was shown is answered 409 with the stored values, and nothing of the submission is saved.
"""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user

from ...errors import Conflict
from ...extensions import db
from ...models import OFFICE
from ...periods import Period
from ...permissions import role_required, scope_unit
from ...timeutil import local_today, utcnow
from . import bp, services
from .forms import InspectionRow, SettingsForm, SubbranchRow, row_name, table_form

FUTURE_MESSAGE = _l("只能录入本季度及以前各季度的得分。")


def _period_or_error():
    """The quarter of the form, or (None, message) when it can't be recorded for."""
    from .views import QUARTER_MESSAGE, quarter_or_none

    period = quarter_or_none()
    if period is None:
        return None, QUARTER_MESSAGE
    if not services.is_recordable(period, local_today()):
        return None, FUTURE_MESSAGE
    return period, None


def _submitted(form, units, names) -> dict:
    """Each unit's typed values and the version its row showed, for the rows the page sent."""
    changes = {}
    for unit in units:
        name = row_name(unit)
        if f"{name}-version" not in request.form:
            continue  # a unit the page did not show (added since): leave it alone
        row = form[name]
        changes[unit] = ({n: row[n].data for n in names}, row.version.seen)
    return changes


def _table(template: str, units, row_class, initial_of, save, names, done):
    """The GET and POST of one table form over ``units`` (see the module's docstring)."""
    period, problem = _period_or_error()
    context = {"units": units, "quarters": services.recent_quarters(local_today())}
    if period is None:
        return render_template(template, quarter=None, quarter_error=problem, **context), 400
    context["quarter"] = period

    def fresh():
        return table_form(row_class, units, initial_of(units, period))

    if request.method == "GET":
        return render_template(template, form=fresh(), **context)
    form = table_form(row_class, units)
    if not form.validate():
        return render_template(template, form=form, **context), 422
    try:
        with services.guarded():
            changed = save(_submitted(form, units, names), period.label, current_user, utcnow())
            db.session.commit()
    except Conflict as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return render_template(template, form=fresh(), **context), 409
    flash(done(changed, period.label), "success")
    return redirect(url_for("scores.index", quarter=period.label), 303)


def _initial(stored: dict, units, names) -> dict:
    """Each unit's stored values of ``names`` and version; version 0 for units not yet stored."""
    return {unit_id: {**{name: getattr(row, name) for name in names},
                      "version": str(row.version)} for unit_id, row in stored.items()} | {
        u.id: {"version": "0"} for u in units if u.id not in stored}


def _inspection_initial(units, period: Period) -> dict:
    return _initial(services.inspections([u.id for u in units], period.label), units,
                    services.CHECKS)


def _subbranch_initial(units, period: Period) -> dict:
    return _initial(services.subbranch_rows(units, period.label), units,
                    services.SUBBRANCH_FIELDS)


@bp.route("/record", methods=["GET", "POST"])
@role_required(OFFICE)
def record():
    """录入检查得分: the quarter's three check scores of every outlet of the subtree."""
    units = services.units_in(scope_unit(current_user), "outlet")
    return _table("scores/record.html", units, InspectionRow, _inspection_initial,
                  services.save_inspections, services.CHECKS,
                  lambda count, quarter: gettext(
                      "已保存 %(quarter)s 的检查得分(%(count)d 个网点有变更)。",
                      count=count, quarter=quarter))


@bp.route("/subbranches", methods=["GET", "POST"])
@role_required(OFFICE)
def subbranches():
    """支行考核: the quarter's management score and bonuses of every sub-branch of the subtree."""
    units = services.units_in(scope_unit(current_user), "subbranch")
    return _table("scores/subbranches.html", units, SubbranchRow, _subbranch_initial,
                  services.save_subbranches, services.SUBBRANCH_FIELDS,
                  lambda count, quarter: gettext(
                      "已保存 %(quarter)s 的支行考核得分(%(count)d 个支行有变更)。",
                      count=count, quarter=quarter))


def _settings_form(amounts: services.Deduction, formdata=None) -> SettingsForm:
    if formdata is not None:
        return SettingsForm()
    return SettingsForm(formdata=None, per_complaint=amounts.per_complaint,
                        per_escalated=amounts.per_escalated, version=str(amounts.version))


@bp.route("/settings", methods=["GET", "POST"])
@role_required(OFFICE)
def settings():
    """投诉扣分标准: the points a counted complaint costs an outlet's score."""
    amounts = services.deduction_settings()
    if request.method == "GET":
        return render_template("scores/settings.html", form=_settings_form(amounts))
    form = _settings_form(amounts, request.form)
    if not form.validate():
        return render_template("scores/settings.html", form=form), 422
    try:
        with services.guarded():
            services.save_settings(form.per_complaint.data, form.per_escalated.data,
                                   form.version.seen, current_user, utcnow())
            db.session.commit()
    except Conflict as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return render_template("scores/settings.html",
                               form=_settings_form(services.deduction_settings())), 409
    flash(gettext("已保存投诉扣分标准。"), "success")
    return redirect(url_for("scores.index"), 303)
