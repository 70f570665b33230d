"""The service office's form for a new checklist template version: 20 rows and a note."""
from collections import Counter

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, Form, FormField, HiddenField, IntegerField, SelectField, StringField
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from ...forms import PortalForm
from ..admin.forms import BAD_CHOICE, options, required
from ..complaints.forms import no_control_characters, strip
from .models import ITEMS, ChecklistTemplate
from .services import CATEGORY_MAX, NOTE_MAX, RULE_AMOUNTS, TEXT_MAX, check_template_rows

ORDER_MESSAGE = _l("顺序须为 1–20 的整数。")


def rule_label(code: str):
    """A deduction rule as a select shows it: code, points and fine (translated when shown)."""
    if code not in RULE_AMOUNTS:
        return code
    points, money = RULE_AMOUNTS[code]
    return _l("%(code)s(%(points)s 分,罚 %(money)s 元)", code=code,
                   points=f"{points:+}".replace("-", "−"), money=money)


class TemplateRowForm(Form):
    """One item of the new version: where it goes, its category, text and deduction rule."""

    order = IntegerField(_l("顺序"), validators=[InputRequired(ORDER_MESSAGE),
                                                 NumberRange(1, ITEMS, ORDER_MESSAGE)],
                         invalid_value_message=ORDER_MESSAGE,
                         render_kw={"inputmode": "numeric", "size": 3, "maxlength": 2})
    category = StringField(_l("类别"), filters=[strip], validators=[no_control_characters],
                           render_kw={"maxlength": CATEGORY_MAX, "size": 8})
    text = StringField(_l("检查内容"), filters=[strip], validators=[no_control_characters],
                       render_kw={"maxlength": TEXT_MAX})
    rule = SelectField(_l("扣分条款"), choices=options(_l("不扣分"), {
        code: rule_label(code) for code in RULE_AMOUNTS}), invalid_choice_message=BAD_CHOICE)


def _rows_of(template: ChecklistTemplate) -> list[dict]:
    return [{"order": item.number, "category": item.category, "text": item.text,
             "rule": item.rule_code} for item in template.items]


class TemplateForm(PortalForm):
    """The items in the order they stand now, each with the place it should take (1–20)."""

    rows = FieldList(FormField(TemplateRowForm), min_entries=ITEMS, max_entries=ITEMS)
    note = TextAreaField(_l("修改说明"), filters=[strip], validators=[
        *required(_l("请写明本次修改了什么。")),
        Length(max=NOTE_MAX, message=_l("修改说明不能超过 %(max)d 字。", max=NOTE_MAX)),
        no_control_characters], render_kw={"rows": 2, "maxlength": NOTE_MAX})
    base = HiddenField()

    def __init__(self, *args, current: ChecklistTemplate, **kwargs):
        super().__init__(*args, data={"rows": _rows_of(current), "base": current.version},
                         **kwargs)
        self.current = current
        self.row_errors: dict[int, str] = {}  # by row index (0-based)

    def typed(self) -> list[tuple[str, str, str]]:
        """(category, text, rule) of each row as typed, in the rows' present order."""
        return [((row.category.data or "").strip(), (row.text.data or "").strip(),
                 row.rule.data or "") for row in self.rows]

    def ordered(self) -> list[tuple[str, str, str]]:
        """The rows in their new order (call after ``check``)."""
        pairs = sorted(zip((row.order.data for row in self.rows), self.typed()))
        return [row for _, row in pairs]

    def check(self) -> bool:
        """Apply the rules of a template version, each message next to its row; True if savable."""
        for number, message in check_template_rows(self.typed()).items():
            if number:
                self.row_errors[number - 1] = message
            else:
                self.form_errors.append(message)
        in_order = self._check_order()
        if str(self.current.version) != (self.base.data or ""):
            self.form_errors.append(_l(
                "清单模板刚被他人修改(现为第 %(version)d 版),请在最新版本上重新修改。",
                version=self.current.version))
        elif in_order and not (self.row_errors or self.form_errors) and self.ordered() == [
                (item.category, item.text, item.rule_code) for item in self.current.items]:
            self.form_errors.append(_l("内容和顺序都与现行版本相同,无需保存。"))
        return in_order and not (self.row_errors or self.form_errors or self.errors)

    def _check_order(self) -> bool:
        """The order numbers must use each of 1–20 once; duplicates are shown on their rows."""
        orders = [row.order.data for row in self.rows]
        if any(not isinstance(order, int) or not 1 <= order <= ITEMS for order in orders):
            return False  # the field itself says what is wrong
        counts = Counter(orders)
        for row in self.rows:
            if counts[row.order.data] > 1:
                row.order.errors = [*row.order.errors, _l(
                    "顺序 %(order)d 重复,每个顺序号只能用一次。", order=row.order.data)]
        missing = sorted(set(range(1, ITEMS + 1)) - set(orders))
        if missing:
            self.form_errors.append(_l("顺序须为 1–20 各用一次,缺少:%(missing)s。",
                                       missing="、".join(map(str, missing))))
        return not missing
