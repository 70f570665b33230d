"""Forms of the teller's and the manager's rating pages: appeals, decisions, periods, thresholds."""
from decimal import Decimal
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, FieldList, Form, FormField, HiddenField, IntegerField, StringField
from wtforms import TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional, ValidationError

from ...errors import DomainError
from ...forms import PortalForm
from ...periods import BadPeriod, Period, parse, parse_quarter
from .services import Threshold

LEVELS = (5, 4, 3, 2)  # the rows of the star-level table, top first
MONTH_MESSAGE = _l("请按 YYYY-MM 格式填写月份,如 2026-10。")
QUARTER_MESSAGE = _l("请按 YYYYQn 格式填写季度,如 2026Q3。")


def strip(value):
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


def blame(form, error: DomainError) -> None:
    """Show a refused action's message next to its field, else above the form."""
    if error.field and error.field in form:
        form[error.field].errors.append(error.message)
    else:
        form.form_errors.append(error.message)


class AppealForm(PortalForm):
    reason = TextAreaField(
        _l("申诉理由"), filters=[strip],
        validators=[InputRequired(_l("请写明申诉理由(5–500 字)。")),
                    Length(5, 500, _l("请写明申诉理由(5–500 字)。"))],
        render_kw={"maxlength": 500, "rows": 3},
    )


class DecideForm(PortalForm):
    decision = StringField(_l("处理结果"), validators=[
        InputRequired(_l("请选择处理结果。")),
        AnyOf(("exclude", "keep"), _l("请选择处理结果。"))])
    reason = TextAreaField(_l("处理理由"), filters=[strip],
                           validators=[Length(max=500, message=_l("理由最多 500 字。"))],
                           render_kw={"maxlength": 500, "rows": 2})
    back = HiddenField()

    @property
    def back_to(self) -> str:
        """The list the decision was made from: appeals or alerts."""
        return "appeals" if self.back.data == "appeals" else "alerts"


class _PeriodForm(PortalForm):
    """A form with one period field (a month or a quarter) that may be left empty."""

    parser = staticmethod(parse)
    field_name = ""
    message = MONTH_MESSAGE

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.raw_period():
            try:
                self.parser(self.raw_period())
            except BadPeriod:
                self[self.field_name].errors.append(self.message)
                return False
        return valid

    def raw_period(self) -> str:
        return (self[self.field_name].data or "").strip()

    def period(self, default: Period) -> Period:
        """The chosen period, or ``default`` when none was given (call after ``validate``)."""
        return self.parser(self.raw_period()) if self.raw_period() else default


def _month_only(text: str) -> Period:
    period = parse(text)
    if "Q" in period.label:
        raise BadPeriod(text)
    return period


class MonthlyCheckForm(_PeriodForm):
    parser = staticmethod(_month_only)
    field_name = "month"
    month = StringField(_l("月份"), filters=[strip],
                        render_kw={"placeholder": "YYYY-MM", "maxlength": 7, "size": 8})


class ConfirmLevelForm(_PeriodForm):
    parser = staticmethod(parse_quarter)
    field_name = "quarter"
    message = QUARTER_MESSAGE
    quarter = StringField(_l("季度"), filters=[strip],
                          render_kw={"placeholder": "YYYYQn", "maxlength": 6, "size": 7})


class MonthForm(MonthlyCheckForm):
    """The month chooser of a page, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False


class QuarterForm(ConfirmLevelForm):
    """The quarter chooser of a page, read from the query string."""

    class Meta:
        csrf = False


# --- the star-level table -------------------------------------------------------------------

def decimal_between(low: str, high: str, places: int, message):
    """A validator: a finite number from ``low`` to ``high`` with at most ``places`` decimals."""
    low_value, high_value = Decimal(low), Decimal(high)

    def check(form, field):
        value = field.data
        if value is None:
            return
        if (not value.is_finite() or not low_value <= value <= high_value
                or value.as_tuple().exponent < -places):
            raise ValidationError(message)

    return check


def _render_kw(inputmode: str, optional: bool) -> dict:
    return {"inputmode": inputmode, "size": 6, **({"placeholder": "—"} if optional else {})}


def _number(label, low: str, high: str, places: int, message, optional: bool = False):
    first = Optional() if optional else InputRequired(message)
    return DecimalField(label, places=None,
                        validators=[first, decimal_between(low, high, places, message)],
                        invalid_value_message=message, render_kw=_render_kw("decimal", optional))


def _percent(label, message):
    return _number(label, "0", "100", 2, message)


def _count(label, high: int, message, optional: bool = False):
    first = Optional() if optional else InputRequired(message)
    return IntegerField(label, validators=[first, NumberRange(0, high, message)],
                        invalid_value_message=message, render_kw=_render_kw("numeric", optional))


class ThresholdRowForm(Form):
    """One level's conditions; percentages as typed (99.5), not fractions."""

    min_ratings = _count(_l("评价数 ≥"), 100000, _l("评价数须为 0–100000 的整数。"))
    min_average = _number(_l("平均星级 ≥"), "1", "5", 2, _l("平均星级须在 1–5 之间,最多两位小数。"))
    min_satisfaction = _percent(_l("满意率 ≥ (%)"), _l("满意率须在 0–100 % 之间,最多两位小数。"))
    min_evaluation = _percent(_l("评价率 ≥ (%)"), _l("评价率须在 0–100 % 之间,最多两位小数。"))
    min_on = _percent(_l("开机率 ≥ (%)"), _l("开机率须在 0–100 % 之间,最多两位小数。"))
    max_upheld = _count(_l("属实投诉 ≤"), 99, _l("属实投诉须为 0–99 的整数,不限则留空。"),
                        optional=True)
    min_net_points = _number(_l("积分净变动 ≥"), "-99.9", "99.9", 1,
                             _l("积分净变动须在 −99.9–99.9 之间,最多一位小数,不限则留空。"),
                             optional=True)


PERCENT_FIELDS = ("min_satisfaction", "min_evaluation", "min_on")


def _plain(value: Fraction | None, places: int) -> Decimal | None:
    """A fraction as a short decimal for an input box (0.995 × 100 → 99.5)."""
    if value is None:
        return None
    text = f"{float(value):.{places}f}"
    return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)


def _row_data(row: Threshold) -> dict:
    return {
        "min_ratings": row.min_ratings, "min_average": _plain(row.min_average, 2),
        "min_satisfaction": _plain(row.min_satisfaction * 100, 2),
        "min_evaluation": _plain(row.min_evaluation * 100, 2),
        "min_on": _plain(row.min_on * 100, 2), "max_upheld": row.max_upheld,
        "min_net_points": _plain(row.min_net_points, 1),
    }


class ThresholdsForm(PortalForm):
    rows = FieldList(FormField(ThresholdRowForm), min_entries=len(LEVELS),
                     max_entries=len(LEVELS))

    def __init__(self, *args, current: tuple[Threshold, ...], **kwargs):
        by_level = {row.level: row for row in current}
        data = {"rows": [_row_data(by_level[level]) for level in LEVELS if level in by_level]}
        super().__init__(*args, data=data, **kwargs)

    def levels(self):
        """(level, row form) pairs, top level first."""
        return list(zip(LEVELS, self.rows))

    def thresholds(self) -> list[Threshold]:
        """The table as typed, percentages turned into fractions (call after validation)."""
        result = []
        for level, row in self.levels():
            values = {field.short_name: field.data for field in row}
            for name in PERCENT_FIELDS:
                values[name] = Fraction(values[name]) / 100
            result.append(Threshold(
                level, values["min_ratings"], Fraction(values["min_average"]),
                values["min_satisfaction"], values["min_evaluation"], values["min_on"],
                values["max_upheld"],
                None if values["min_net_points"] is None else Fraction(values["min_net_points"])))
        return result
