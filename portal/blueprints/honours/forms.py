"""Forms of the honours pages: a nomination, and the office's approval or rejection."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from ...forms import PortalForm
from ..admin.forms import BAD_CHOICE, blank_to_none
from ..complaints.forms import no_control_characters, strip
from ..ledger.forms import money_field, points_field
from .services import CITATION_MAX, NOTE_MAX

PERIOD_SHAPES = _l("请按 YYYY-MM、YYYY 或 YYYY-MM-DD 填写期间。")


class NominationForm(PortalForm):
    """推荐: a person of the outlet, a title, its period and the citation (事迹)."""

    person = SelectField(_l("人员"), validators=[InputRequired(_l("请选择人员。"))],
                         coerce=blank_to_none, invalid_choice_message=BAD_CHOICE)
    title = SelectField(_l("荣誉称号"), validators=[InputRequired(_l("请选择荣誉称号。"))],
                        coerce=blank_to_none, invalid_choice_message=BAD_CHOICE)
    period = StringField(_l("期间(月度称号 YYYY-MM,年度称号 YYYY,委屈奖填事发日期 YYYY-MM-DD)"),
                         filters=[strip],
                         validators=[InputRequired(_l("请填写期间。")),
                                     Length(max=10, message=PERIOD_SHAPES)],
                         render_kw={"maxlength": 10, "autocomplete": "off"})
    citation = TextAreaField(_l("事迹"), filters=[strip], validators=[
        DataRequired(_l("请填写事迹。")),
        Length(max=CITATION_MAX, message=_l("不能超过 %(max)d 字。", max=CITATION_MAX)),
        no_control_characters], render_kw={"rows": 4, "maxlength": CITATION_MAX})


class DecisionForm(PortalForm):
    """Every decision carries the version of the nomination the page showed."""

    version = HiddenField()

    @property
    def seen_version(self) -> int:
        text = self.version.data or ""
        return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else -1


class ApproveForm(DecisionForm):
    """批准; for 委屈奖 the points and money within A06's range (empty: the rule's amount)."""

    points = points_field(_l("奖励分值(仅委屈奖,留空取条款默认值)"))
    money = money_field(_l("奖励金额(元,仅委屈奖,留空取条款默认值)"))
    note = TextAreaField(_l("审批意见(选填)"), filters=[strip], validators=[
        Length(max=NOTE_MAX, message=_l("不能超过 %(max)d 字。", max=NOTE_MAX)),
        no_control_characters], render_kw={"rows": 2, "maxlength": NOTE_MAX})


class RejectForm(DecisionForm):
    note = TextAreaField(_l("不予批准的理由"), filters=[strip], validators=[
        DataRequired(_l("请填写不予批准的理由。")),
        Length(max=NOTE_MAX, message=_l("不能超过 %(max)d 字。", max=NOTE_MAX)),
        no_control_characters], render_kw={"rows": 2, "maxlength": NOTE_MAX})
