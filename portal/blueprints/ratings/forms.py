"""Forms of the rating pages: the customer's rating and the teller's window."""
from flask_babel import lazy_gettext as _l
from wtforms import (HiddenField, RadioField, SelectChoice, SelectField, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.validators import Optional, Regexp, ValidationError

from ...forms import PortalForm
from .models import Window
from .services import COMMENT_MAX, STAR_LABELS, TAGS, RatingInput, clean_comment

STAR_VALUES = ("5", "4", "3", "2", "1")
TICKET_RULE = r"^[A-Za-z0-9-]{1,20}$"
TICKET_MESSAGE = _l("叫号单号只能包含字母、数字和“-”,最多 20 位。")
COMMENT_PROBLEMS = {
    "too long": _l("评价内容不能超过 %(max)d 字。", max=COMMENT_MAX),
    "control characters": _l("评价内容含有无法识别的控制字符,请删除后再提交。"),
}


def strip(value):
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


def window_id(value):
    """Read a window select value as an id; anything else is None (refused by the form)."""
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def window_label(window: Window):
    """Name a window in the select, with the teller on duty there, if any."""
    if window.duty is None:
        return _l("%(number)d 号窗口", number=window.number)
    return _l("%(number)d 号窗口(%(name)s 在岗)", number=window.number,
              name=window.duty.person.name)


class RatingForm(PortalForm):
    """The customer's rating: stars, tags, comment, queue ticket and the page's one-time token."""

    stars = RadioField(
        _l("您对本次服务的评价"),
        choices=[SelectChoice(value, STAR_LABELS[int(value)]) for value in STAR_VALUES],
        validate_choice=False,
    )
    tags = SelectMultipleField(_l("印象标签(可多选,选填)"), choices=list(TAGS),
                               validate_choice=False)
    comment = TextAreaField(_l("意见或建议(选填)"),
                            render_kw={"maxlength": COMMENT_MAX, "rows": 4})
    ticket_no = StringField(
        _l("叫号单号(选填)"),
        validators=[Optional(), Regexp(TICKET_RULE, message=TICKET_MESSAGE)],
        filters=[strip],
        render_kw={"autocomplete": "off", "inputmode": "text", "maxlength": 20},
    )
    view_token = HiddenField()

    def validate_stars(self, field):
        """Accept exactly one of 1–5 (not 0, 6, 5.5, full-width digits or a repeated value)."""
        chosen = field.raw_data or []  # no stars field at all (an empty POST)
        if len(chosen) != 1 or chosen[0] not in STAR_VALUES:
            raise ValidationError(_l("请选择 1–5 颗星中的一项。"))

    def validate_tags(self, field):
        """Accept only listed tags, each at most once."""
        chosen = field.raw_data or []
        if any(tag not in TAGS for tag in chosen) or len(set(chosen)) != len(chosen):
            raise ValidationError(_l("请只从列出的标签中选择。"))

    def validate_comment(self, field):
        """Normalise the comment (line breaks, NFC); refuse one too long or with control codes."""
        try:
            field.data = clean_comment((field.data or "").replace("\r\n", "\n"))
        except ValueError as error:
            problem = COMMENT_PROBLEMS.get(str(error), COMMENT_PROBLEMS["too long"])
            raise ValidationError(problem) from None

    def rating_input(self) -> RatingInput:
        """The validated rating as the service takes it."""
        return RatingInput(stars=int(self.stars.data), tags=tuple(self.tags.data or ()),
                           comment=self.comment.data or "", ticket_no=self.ticket_no.data or "")


class OpenWindowForm(PortalForm):
    """The teller picks one window of their own outlet to open for rating (上岗)."""

    window = SelectField(_l("窗口"), coerce=window_id, validate_choice=False)

    def __init__(self, *args, windows: list[Window], **kwargs):
        super().__init__(*args, **kwargs)
        self.windows = {window.id: window for window in windows}
        self.window.choices = [SelectChoice("", _l("请选择窗口"))] + [
            SelectChoice(str(w.id), window_label(w)) for w in windows]

    def validate_window(self, field):
        """Accept only a window of the teller's own outlet."""
        if field.data not in self.windows:
            raise ValidationError(_l("请选择本网点的窗口。"))

    def chosen_window(self) -> Window:
        """The window picked (after validation)."""
        return self.windows[self.window.data]
