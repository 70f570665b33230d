"""Forms of the score pages: one table form per quarter for the outlets' check scores, one for
the sub-branches' management scores and bonuses, and the deduction settings."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import Form, FormField, HiddenField, StringField

from ...forms import PortalForm
from . import services
from .services import BONUS_MAX, SCORE_MAX, BadScore

MESSAGES = {
    "number": _l("请填写数字,如 86 或 92.5;未检查请留空。"),
    "places": _l("最多 1 位小数。"),
}


def score_text(value: Decimal | None) -> str:
    """A score as typed: ``90`` rather than ``90.0``, ``87.5``; empty for none."""
    if value is None:
        return ""
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value)


class ScoreField(StringField):
    """A score typed as text: empty is None; otherwise 0–``high`` with at most one decimal.
    What was typed is shown again with the message next to it."""

    def __init__(self, label, high: Decimal = SCORE_MAX, **kwargs):
        render_kw = {"inputmode": "decimal", "maxlength": 6, "autocomplete": "off"}
        super().__init__(label, render_kw=render_kw, **kwargs)
        self.high = high

    def process_formdata(self, valuelist):
        self.data = None
        try:
            self.data = services.parse_score(valuelist[0] if valuelist else "", self.high)
        except BadScore as error:
            message = MESSAGES.get(error.reason)
            if error.reason == "range":
                message = _l("请填写 0 到 %(high)s 之间的数。", high=score_text(error.high))
            raise ValueError(message) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return score_text(self.data)


class VersionField(HiddenField):
    """The version of the stored row the page showed (0: none yet); -1 when unreadable."""

    @property
    def seen(self) -> int:
        text = str(self.data or "")
        return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else -1


class InspectionRow(Form):
    mystery = ScoreField(_l("神秘人暗访"))
    offsite = ScoreField(_l("非现场监控检查"))
    onsite = ScoreField(_l("现场明查"))
    version = VersionField()


class SubbranchRow(Form):
    management = ScoreField(_l("管理考核得分"))
    innovation = ScoreField(_l("创新加分"), high=BONUS_MAX)
    award = ScoreField(_l("外部获奖加分"), high=BONUS_MAX)
    version = VersionField()


def row_name(unit) -> str:
    return f"u{unit.id}"


def table_form(row_class, units, initial: dict | None = None):
    """A form with one row of ``row_class`` per unit (fields ``u<id>-<name>``); ``initial``
    maps a unit id to the row's data for a page shown afresh (formdata=None)."""

    class TableForm(PortalForm):
        pass

    for unit in units:
        setattr(TableForm, row_name(unit), FormField(row_class, label=unit.name))
    if initial is None:
        return TableForm()
    return TableForm(formdata=None, data={row_name(u): initial.get(u.id, {}) for u in units})


class SettingsForm(PortalForm):
    """The points one counted complaint costs the outlet's score."""

    per_complaint = ScoreField(_l("每件属实或部分属实投诉扣分"))
    per_escalated = ScoreField(_l("每件投诉到分行或媒体的属实或部分属实投诉扣分"))
    version = VersionField()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in (self.per_complaint, self.per_escalated):
            if field.data is None and not field.errors:
                field.errors = [*field.errors, _l("请填写扣分。")]
                valid = False
        return valid
