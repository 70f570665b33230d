"""Forms of the complaint pages: the customer's form and look-up, staff intake and actions."""
import re

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, HiddenField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional,
                                ValidationError)
from wtforms.widgets import CheckboxInput, ListWidget

from ...forms import PortalForm
from ..admin.forms import options
from .services import DESCRIPTION_MAX, TEXT_MAX

CHANNEL_LABELS = {
    "web": _l("扫码/网页"), "walk_in": _l("现场"), "phone": _l("电话"),
    "comment_book": _l("意见簿/意见箱"), "referral": _l("上级转办"), "media": _l("媒体"),
}
CATEGORY_LABELS = {
    "attitude": _l("服务态度"), "error": _l("业务差错"), "waiting": _l("等候时间"),
    "fees": _l("收费争议"), "facilities": _l("设施环境"), "other": _l("其他"),
}
LEVEL_LABELS = {"outlet": _l("网点"), "branch": _l("分行及以上"), "media": _l("媒体")}
FINDING_LABELS = {"upheld": _l("属实"), "partly": _l("部分属实"), "not_upheld": _l("不属实")}
CALLBACK_LABELS = {"satisfied": _l("满意"), "basic": _l("基本满意"), "unsatisfied": _l("不满意")}
STATUS_LABELS = {"new": _l("待响应"), "handling": _l("处理中"), "decided": _l("已办结"),
                 "called_back": _l("已回访"), "closed": _l("已关闭")}
STAFF_CHANNELS = ("walk_in", "phone", "comment_book", "referral", "media")
# ASCII digits only (\d takes full-width ones, and the look-up by last four digits never would)
PHONE = re.compile(r"^1[0-9]{10}$|^0[0-9]{2,3}-?[0-9]{7,8}$")
TICKET = re.compile(r"^TS\d{8}-\d{4}$")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def no_control_characters(form, field):
    if field.data and any(ord(ch) < 32 and ch not in "\r\n\t" for ch in field.data):
        raise ValidationError(_l("内容含有无法识别的控制字符,请删除后再提交。"))


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (keyboard and screen-reader friendly)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _CustomerFields(PortalForm):
    category = RadioField(_l("投诉类别"), choices=options(None, CATEGORY_LABELS),
                          validators=[InputRequired(_l("请选择投诉类别。"))])
    description = TextAreaField(
        _l("投诉内容"), filters=[strip],
        validators=[DataRequired(_l("请写明投诉的事情经过。")),
                    Length(max=DESCRIPTION_MAX, message=_l("投诉内容不能超过 %(max)d 字。",
                                                           max=DESCRIPTION_MAX)),
                    no_control_characters],
        render_kw={"rows": 6, "maxlength": DESCRIPTION_MAX})
    customer_name = StringField(_l("您的称呼(选填)"), filters=[strip],
                                validators=[Length(max=50), no_control_characters],
                                render_kw={"autocomplete": "name", "maxlength": 50})
    customer_phone = StringField(_l("联系电话"), filters=[strip],
                                 render_kw={"autocomplete": "tel", "inputmode": "tel",
                                            "maxlength": 20})
    anonymous = BooleanField(_l("匿名投诉(不留电话,将无法查询进度和回访)"))
    window_number = IntegerField(_l("窗口号(选填)"), validators=[
        Optional(), NumberRange(1, 99, message=_l("窗口号应为 1–99。"))],
        render_kw={"inputmode": "numeric"})

    def validate_customer_phone(self, field):
        if self.anonymous.data:
            field.data = ""
            return
        if not field.data:
            raise ValidationError(_l("请填写联系电话,或选择匿名投诉。"))
        if not PHONE.match(field.data):
            raise ValidationError(_l("请填写 11 位手机号或带区号的固定电话。"))


class ComplaintForm(_CustomerFields):
    """The customer's complaint form (/complaints/new)."""

    outlet = SelectField(_l("投诉网点"), validators=[InputRequired(_l("请选择网点。"))])
    teller = HiddenField(filters=[strip])


class StatusForm(PortalForm):
    """The customer's look-up: ticket number and the last four digits of the phone."""

    ticket = StringField(_l("投诉单号"), filters=[strip, lambda v: v.upper() if v else v],
                         validators=[InputRequired(_l("请填写投诉单号。"))],
                         render_kw={"placeholder": "TS20261123-0007", "autocomplete": "off",
                                    "maxlength": 20})
    last_four = StringField(_l("联系电话后四位"), filters=[strip],
                            validators=[InputRequired(_l("请填写联系电话后四位。"))],
                            render_kw={"inputmode": "numeric", "maxlength": 4,
                                       "autocomplete": "off"})

    def validate_ticket(self, field):
        if not TICKET.match(field.data or ""):
            raise ValidationError(_l("投诉单号格式应为 TS + 8 位日期 + “-” + 4 位序号。"))

    def validate_last_four(self, field):
        if not (field.data or "").isascii() or not field.data.isdigit() or len(field.data) != 4:
            raise ValidationError(_l("请填写 4 位数字。"))


class IntakeForm(_CustomerFields):
    """Staff record a complaint received in person, by phone, in the book, from above or media."""

    channel = SelectField(_l("受理渠道"), choices=options(None, {c: CHANNEL_LABELS[c] for c in STAFF_CHANNELS}))
    outlet = SelectField(_l("投诉网点"), validators=[InputRequired(_l("请选择网点。"))])
    subject = SelectField(_l("被投诉人员(选填)"), validate_choice=False)
    level = SelectField(_l("投诉层级"), choices=options(None, LEVEL_LABELS))
    customer_name = StringField(_l("客户称呼(选填)"), filters=[strip],
                                validators=[Length(max=50), no_control_characters])
    anonymous = BooleanField(_l("客户匿名(未留电话)"))


# --- actions on a complaint -------------------------------------------------------------------

def _text(label, required=True):
    checks = [Length(max=TEXT_MAX, message=_l("内容不能超过 %(max)d 字。", max=TEXT_MAX)),
              no_control_characters]
    if required:
        checks.insert(0, DataRequired(_l("请填写内容。")))
    return TextAreaField(label, filters=[strip], validators=checks,
                         render_kw={"rows": 3, "maxlength": TEXT_MAX})


class ActionForm(PortalForm):
    """Every action carries the version of the complaint the page showed."""

    version = HiddenField()

    @property
    def seen_version(self) -> int | None:
        text = self.version.data or ""
        return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else -1


class RespondForm(ActionForm):
    text = _text(_l("响应记录(如何联系了客户)"))


class NoteForm(ActionForm):
    text = _text(_l("内容"))
    public = BooleanField(_l("作为公开答复(客户查询时可见)"))


class TransferForm(ActionForm):
    receiver = SelectField(_l("转给"), validate_choice=False,
                           validators=[InputRequired(_l("请选择接收人。"))])
    reason = _text(_l("转办原因"))


class DeclineForm(ActionForm):
    reason = _text(_l("退回原因"))


class ExtendForm(ActionForm):
    reason = _text(_l("延期原因"))


class DecideForm(ActionForm):
    finding = RadioField(_l("调查结论"), choices=options(None, FINDING_LABELS),
                         validators=[InputRequired(_l("请选择调查结论。"))])
    responsible = MultiCheckboxField(_l("责任人(属实或部分属实时必填)"), validate_choice=False)
    reply = _text(_l("处理结果(将答复客户)"))


class CallbackForm(ActionForm):
    result = RadioField(_l("回访结果"), choices=options(None, CALLBACK_LABELS),
                        validators=[InputRequired(_l("请选择回访结果。"))])
    text = _text(_l("回访记录(选填)"), required=False)


class GrievanceForm(ActionForm):
    person = SelectField(_l("推荐员工"), validate_choice=False,
                         validators=[InputRequired(_l("请选择员工。"))])
    citation = _text(_l("事迹(容忍克制、耐心解释的经过)"))
