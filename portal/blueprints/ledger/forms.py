"""Forms of the ledger pages: an entry, confirm and revoke, training, proposals, rule amounts."""
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from ...forms import PortalForm
from ...timeutil import local_today
from ..admin.forms import BAD_CHOICE, blank_to_none
from ..complaints.forms import no_control_characters, strip

REASON_MAX = 500
EVIDENCE_MAX = 80
POINTS_LIMIT = Decimal("99.9")  # what a stored amount holds; the rule's range is checked later
MONEY_LIMIT = Decimal("99999.99")
STATUS_LABELS = {"proposed": _l("待确认"), "confirmed": _l("已生效"), "revoked": _l("已撤销")}
KIND_LABELS = {"deduction": _l("扣分"), "award": _l("奖励"), "manager": _l("负责人扣分")}


class AmountField(StringField):
    """An amount typed as text: empty is None; otherwise a number with at most ``places``
    decimals and at most ``limit`` either side of zero. What was typed is shown again."""

    def __init__(self, label, places: int, limit: Decimal, negative: bool = True, **kwargs):
        super().__init__(label, **kwargs)
        self.places, self.limit, self.negative = places, limit, negative

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip().replace("−", "-").replace(",", "")
        self.data = None
        if not text:
            return
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(_l("请填写数字,如 -2 或 1.5。")) from None
        if not value.is_finite():
            raise ValueError(_l("请填写数字,如 -2 或 1.5。"))
        if abs(value) > self.limit or (value < 0 and not self.negative):
            low = -self.limit if self.negative else 0
            raise ValueError(_l("请填写 %(low)s 到 %(high)s 之间的数。", low=low, high=self.limit))
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            raise ValueError(_l("最多 %(places)d 位小数。", places=self.places))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return str(self.data) if self.data is not None else ""


def points_field(label, **kwargs) -> AmountField:
    return AmountField(label, 1, POINTS_LIMIT, render_kw={"inputmode": "decimal",
                                                          "maxlength": 8}, **kwargs)


def money_field(label, **kwargs) -> AmountField:
    return AmountField(label, 2, MONEY_LIMIT, negative=False,
                       render_kw={"inputmode": "decimal", "maxlength": 10}, **kwargs)


def _text(label, message, max_length: int, rows: int = 2) -> TextAreaField:
    return TextAreaField(label, filters=[strip], validators=[
        DataRequired(message),
        Length(max=max_length, message=_l("不能超过 %(max)d 字。", max=max_length)),
        no_control_characters], render_kw={"rows": rows, "maxlength": max_length})


class DayField(DateField):
    """A date typed as YYYY-MM-DD; empty is None (for the required check to name)."""

    def __init__(self, label, validators=None, **kwargs):
        super().__init__(label, validators, invalid_value_message=_l("请按 YYYY-MM-DD 填写日期。"),
                         **kwargs)

    def process_formdata(self, valuelist):
        if valuelist and not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


def not_in_future(form, field) -> None:
    if field.data and field.data > local_today():
        raise ValidationError(_l("日期不能晚于今天。"))


def this_year_or_last(form, field) -> None:
    if field.data and field.data.year < local_today().year - 1:
        raise ValidationError(_l("只能记录今年或去年的事项。"))


class EntryForm(PortalForm):
    """记一笔: a deduction or award for one person, proposed until confirmed."""

    person = SelectField(_l("人员"), validators=[InputRequired(_l("请选择人员。"))],
                         coerce=blank_to_none, invalid_choice_message=BAD_CHOICE)
    rule = SelectField(_l("条款"), validators=[InputRequired(_l("请选择条款。"))],
                       coerce=blank_to_none, invalid_choice_message=BAD_CHOICE)
    day = DayField(_l("发生日期"), validators=[InputRequired(_l("请填写发生日期。")),
                                                not_in_future, this_year_or_last],
                    default=local_today)
    points = points_field(_l("分值(留空取条款默认值;扣分为负数)"))
    money = money_field(_l("罚款/奖励金额(元,留空取条款默认值)"))
    responsibility = BooleanField(_l("管理责任(网点负责人承担同等扣分和罚款)"))
    reason = _text(_l("事由"), _l("请填写事由。"), REASON_MAX, rows=3)
    evidence = StringField(_l("依据(选填,如检查记录、通报文号)"), filters=[strip],
                           validators=[Length(max=EVIDENCE_MAX, message=_l(
                               "不能超过 %(max)d 字。", max=EVIDENCE_MAX)),
                                       no_control_characters],
                           render_kw={"maxlength": EVIDENCE_MAX})


class VersionForm(PortalForm):
    """Every action on an entry carries the version of the entry the page showed."""

    version = HiddenField()

    @property
    def seen_version(self) -> int:
        text = self.version.data or ""
        return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else -1


class RevokeForm(VersionForm):
    reason = _text(_l("撤销原因"), _l("请填写撤销原因。"), REASON_MAX)


class TrainingForm(PortalForm):
    """下岗培训合格: ends the warning state of a person."""

    person = SelectField(_l("人员"), validators=[InputRequired(_l("请选择人员。"))],
                         coerce=blank_to_none, invalid_choice_message=BAD_CHOICE)
    passed_on = DayField(_l("培训合格日期"), validators=[
        InputRequired(_l("请填写培训合格日期。")), not_in_future], default=local_today)
    note = TextAreaField(_l("备注(选填)"), filters=[strip], validators=[
        Length(max=REASON_MAX, message=_l("不能超过 %(max)d 字。", max=REASON_MAX)),
        no_control_characters], render_kw={"rows": 2, "maxlength": REASON_MAX})


class ProposalForm(PortalForm):
    """确认 a proposal (no fields but the CSRF token)."""


class DismissForm(PortalForm):
    note = _text(_l("驳回理由"), _l("请填写驳回理由。"), REASON_MAX)


class AmountsForm(PortalForm):
    """The service office's amounts of one rule: points and money, each a range."""

    points_low = points_field(_l("分值下限"), validators=[InputRequired(_l("请填写分值。"))])
    points_high = points_field(_l("分值上限"), validators=[InputRequired(_l("请填写分值。"))])
    money_low = money_field(_l("金额下限(元)"), validators=[InputRequired(_l("请填写金额。"))])
    money_high = money_field(_l("金额上限(元)"), validators=[InputRequired(_l("请填写金额。"))])


def year_of(text: str | None, today: date) -> int | None:
    """The year asked for in ``?year=`` (this one when none), or None when it is no year
    between 2000 and this one."""
    text = (text or "").strip()
    if not text:
        return today.year
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        return None
    year = int(text)
    return year if 2000 <= year <= today.year else None
