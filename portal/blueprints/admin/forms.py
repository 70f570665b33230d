"""Forms of the admin pages: org units, people, passwords, photos, API tokens, filters."""
from datetime import date, timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (DateField, IntegerField, PasswordField, SearchField, SelectChoice, SelectField,
                     StringField)
from wtforms.validators import (DataRequired, EqualTo, InputRequired, Length, NumberRange,
                                Optional, ValidationError)

from ...forms import PortalForm
from ...models import KINDS, ROLES, OrgUnit
from .photos import photo_problem

BAD_CHOICE = _l("请从列表中选择。")
PASSWORD_RULE = Length(min=8, max=64, message=_l("密码长度须为 8–64 个字符。"))
STATUSES = {"active": _l("在岗"), "inactive": _l("已停用"), "all": _l("全部")}


def strip(value):
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value):
    """Read an empty select value as None."""
    return value or None


def unit_id(value):
    """Read a unit select value as an id; an empty value is None."""
    return int(value) if value not in ("", None) else None


def options(blank, choices: dict | None = None) -> list[SelectChoice]:
    """Select options: an empty first one labelled ``blank`` (if given), then ``choices``."""
    first = [SelectChoice("", blank)] if blank is not None else []
    return first + [SelectChoice(value, label) for value, label in (choices or {}).items()]


def required(message) -> list:
    """Refuse a missing value and one made only of spaces, with ``message``."""
    return [InputRequired(message), DataRequired(message)]


def text(label, message, max_length: int, **kwargs) -> StringField:
    """A required, trimmed text field of at most ``max_length`` characters."""
    too_long = Length(max=max_length, message=_l("最多 %(max)d 个字符。"))
    return StringField(label, validators=[*required(message), too_long], filters=[strip], **kwargs)


def choice(label, choices: dict, message) -> SelectField:
    """A required select over ``choices`` with a "please choose" first option."""
    return SelectField(label, validators=[InputRequired(message)], coerce=blank_to_none,
                       choices=options(_l("请选择"), choices),
                       invalid_choice_message=BAD_CHOICE)


def unit_label(unit: OrgUnit, root_depth: int = 0) -> str:
    """Name a unit in a select, indented by its depth below ``root_depth``."""
    return "\u3000" * max(unit.depth - root_depth, 0) + str(unit)  # ideographic spaces


class UnitChoices:
    """Fill a unit select from a list of units and hand back the chosen one."""

    unit_field = ""

    def set_units(self, units: list[OrgUnit], blank) -> None:
        """Offer ``units`` (indented as a tree) after an empty option labelled ``blank``."""
        self.units = {unit.id: unit for unit in units}
        root = min((unit.depth for unit in units), default=0)
        field = self[self.unit_field]
        field.choices = options(blank, {u.id: unit_label(u, root) for u in units})

    def chosen_unit(self) -> OrgUnit | None:
        """The unit picked in the select, or None."""
        return self.units.get(self[self.unit_field].data)


def unit_select(label, validators=()) -> SelectField:
    """A select of org units by id; its options are set per request with ``set_units``."""
    return SelectField(label, validators=list(validators), coerce=unit_id, choices=[],
                       invalid_value_message=BAD_CHOICE, invalid_choice_message=BAD_CHOICE)


def windows_field() -> IntegerField:
    """The number of counter windows of an outlet, 0–99."""
    return IntegerField(
        _l("窗口数"),
        default=0,
        validators=[InputRequired(_l("请填写窗口数,非网点填 0。")),
                    NumberRange(0, 99, _l("窗口数须在 0–99 之间。"))],
        invalid_value_message=_l("窗口数须为 0–99 的整数。"),
        render_kw={"inputmode": "numeric"},
    )


class UnitEditForm(UnitChoices, PortalForm):
    unit_field = "parent"

    name = text(_l("机构名称"), _l("请填写机构名称。"), 80)
    parent = unit_select(_l("上级机构"))
    windows = windows_field()

    def __init__(self, *args, parents: list[OrgUnit], **kwargs):
        super().__init__(*args, **kwargs)
        self.set_units(parents, _l("无(总行)"))


class UnitForm(UnitChoices, PortalForm):
    unit_field = "parent"

    code = text(_l("机构代码"), _l("请填写机构代码。"), 20, render_kw={"autocapitalize": "characters"})
    name = text(_l("机构名称"), _l("请填写机构名称。"), 80)
    kind = choice(_l("机构类型"), KINDS, _l("请选择机构类型。"))
    parent = unit_select(_l("上级机构"), [InputRequired(_l("请选择上级机构。"))])
    windows = windows_field()

    def __init__(self, *args, parents: list[OrgUnit], **kwargs):
        super().__init__(*args, **kwargs)
        self.set_units(parents, _l("请选择"))


class PersonEditForm(UnitChoices, PortalForm):
    unit_field = "org_unit"

    name = text(_l("姓名"), _l("请填写姓名。"), 50)
    role = choice(_l("岗位"), ROLES, _l("请选择岗位。"))
    org_unit = unit_select(_l("所在机构"), [InputRequired(_l("请选择所在机构。"))])
    joined_on = DateField(_l("入职日期"), validators=[InputRequired(_l("请填写入职日期。"))],
                          invalid_value_message=_l("请按 年-月-日 填写有效日期。"))

    def __init__(self, *args, units: list[OrgUnit], **kwargs):
        super().__init__(*args, **kwargs)
        self.set_units(units, _l("请选择"))


class PersonForm(PersonEditForm):
    work_no = text(_l("工号"), _l("请填写工号。"), 20, render_kw={"autocapitalize": "characters"})
    password = PasswordField(
        _l("初始密码"),
        validators=[InputRequired(_l("请填写初始密码。")), PASSWORD_RULE],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordResetForm(PortalForm):
    password = PasswordField(
        _l("新密码"),
        validators=[InputRequired(_l("请填写新密码。")), PASSWORD_RULE],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("确认新密码"),
        validators=[InputRequired(_l("请再次输入新密码。")),
                    EqualTo("password", _l("两次输入的新密码不一致。"))],
        render_kw={"autocomplete": "new-password"},
    )


def real_photo(form, field) -> None:
    """Refuse a file that is not really a JPEG or PNG picture of at most 5 MB."""
    if problem := photo_problem(field.data.stream):
        raise ValidationError(problem)


class PhotoForm(PortalForm):
    photo = FileField(
        _l("照片"),
        validators=[FileRequired(_l("请选择要上传的照片。")), real_photo],
        render_kw={"accept": "image/jpeg,image/png"},
    )


class TokenForm(PortalForm):
    name = text(_l("名称"), _l("请填写令牌名称。"), 80)


class FilterForm(PortalForm):
    """A GET form read from the query string and checked at once; bad values are ignored."""

    class Meta:
        csrf = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.validate()

    def value(self, name: str, fallback=None):
        """The field's value, or ``fallback`` when it is empty or did not validate."""
        field = self[name]
        return fallback if field.errors or not field.data else field.data


def search(label, max_length: int, **kwargs) -> SearchField:
    """An optional, trimmed search box of at most ``max_length`` characters."""
    too_long = Length(max=max_length, message=_l("最多 %(max)d 个字符。"))
    return SearchField(label, validators=[Optional(), too_long], filters=[strip], **kwargs)


class PeopleFilterForm(FilterForm):
    q = search(_l("工号或姓名"), 50)
    role = SelectField(_l("岗位"), choices=options(_l("全部岗位"), ROLES),
                       coerce=blank_to_none, invalid_choice_message=BAD_CHOICE)
    status = SelectField(_l("状态"), choices=options(None, STATUSES), default="active",
                         invalid_choice_message=BAD_CHOICE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        live = {"hx-get": url_for("admin.people"), "hx-target": "#people-results",
                "hx-push-url": "true", "hx-include": "closest form"}
        self.q.render_kw = {**live, "hx-trigger": "input changed delay:200ms, search",
                            "autocomplete": "off"}
        self.role.render_kw = self.status.render_kw = {**live, "hx-trigger": "change"}


class AuditFilterForm(FilterForm):
    """The history's filters; it always covers a range of days, the last month by default, so
    that a page reads the history of those days through the index on its time, however long
    the history grows."""

    DEFAULT_DAYS = 31

    q = search(_l("操作(前缀)"), 60, render_kw={"placeholder": "person."})
    actor = search(_l("操作人工号"), 20)
    since = DateField(_l("起始日期"), validators=[Optional()])
    until = DateField(_l("截止日期"), validators=[Optional()])

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("截止日期不能早于起始日期。"))

    def days(self, today: date) -> tuple[date, date]:
        """The first and last local day to show: as chosen, else the month up to ``today``;
        the boxes left empty show the days taken."""
        until = self.value("until", today)
        since = self.value("since", until - timedelta(days=self.DEFAULT_DAYS - 1))
        if since > until:  # reported next to the field; the month up to the last day instead
            since = until - timedelta(days=self.DEFAULT_DAYS - 1)
        for field, day in ((self.since, since), (self.until, until)):
            if not field.errors:
                field.data = day
        return since, until
