"""Forms of the checklist pages: a problem, a reason to re-open, a rectification."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...forms import PortalForm
from ..admin.photos import photo_problem
from ..complaints.forms import MultiCheckboxField, no_control_characters, strip
from .services import NOTE_MAX

STATE_LABELS = {"unchecked": _l("未检查"), "pass": _l("合格"), "problem": _l("不合格"),
                "na": _l("不适用")}


def _note(label, message):
    return TextAreaField(label, filters=[strip], validators=[
        DataRequired(message), Length(max=NOTE_MAX, message=_l("不能超过 %(max)d 字。", max=NOTE_MAX)),
        no_control_characters], render_kw={"rows": 2, "maxlength": NOTE_MAX})


def real_photo(form, field) -> None:
    """A JPEG or PNG of at most 5 MB, judged by its content, not its name."""
    upload = field.data
    if upload and getattr(upload, "filename", ""):
        if problem := photo_problem(upload.stream):
            raise ValidationError(problem)


class ProblemForm(PortalForm):
    """不合格: what is wrong, who is responsible, a photo, the rectification deadline."""

    note = _note(_l("问题说明"), _l("不合格须填写问题说明。"))
    people = MultiCheckboxField(_l("责任人(选填,点名后生成扣分建议)"), validate_choice=False)
    deadline = DateField(_l("整改期限"), validators=[Optional()])
    photo = FileField(_l("照片(选填,JPEG/PNG,不超过 5 MB)"), validators=[real_photo],
                      render_kw={"accept": "image/jpeg,image/png", "capture": "environment"})


class ReasonForm(PortalForm):
    reason = _note(_l("重新打开的原因"), _l("请填写重新打开的原因。"))


class RectifyForm(PortalForm):
    note = _note(_l("整改说明"), _l("请填写整改说明。"))
