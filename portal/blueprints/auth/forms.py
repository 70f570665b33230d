"""Forms for signing in and changing a password."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from ...forms import PortalForm

PASSWORD_RULE = Length(min=8, max=64, message=_l("密码长度须为 8–64 个字符。"))


class LoginForm(PortalForm):
    work_no = StringField(
        _l("工号"),
        validators=[InputRequired(_l("请输入工号。")), Length(max=20)],
        render_kw={"autocomplete": "username", "autocapitalize": "characters"},
    )
    password = PasswordField(
        _l("密码"),
        validators=[InputRequired(_l("请输入密码。")), Length(max=64)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class PasswordChangeForm(PortalForm):
    current = PasswordField(
        _l("当前密码"),
        validators=[InputRequired(_l("请输入当前密码。"))],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        _l("新密码"),
        validators=[InputRequired(_l("请输入新密码。")), PASSWORD_RULE],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("确认新密码"),
        validators=[InputRequired(_l("请再次输入新密码。")), EqualTo("new", _l("两次输入的新密码不一致。"))],
        render_kw={"autocomplete": "new-password"},
    )
