"""The 20-item hall checklist (SPEC section 2).

The rules come first as pure functions (no app, no database); the stored sheets follow: opening
a day's sheet on the template in force, marking items, problems with people, photos and
deadlines, sign-off, re-opening, rectification, and what the history pages count.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ...audit import record
from ...errors import DomainError
from ...extensions import db
from ...models import OrgUnit, Person
from ...periods import Period
from ...proposals import PointsProposal
from ...timeutil import local_today
from .models import (ITEMS, NA, PASS, PROBLEM, STATES, UNCHECKED, ChecklistEvent, ChecklistItem,
                     ChecklistMark, ChecklistSheet, ChecklistTemplate)

#: the default template of SPEC section 2: (category, item, the deduction a named problem proposes)
DEFAULT_ITEMS = (
    ("网点环境", "营业厅地面、墙面、玻璃整洁,无杂物、无异味", ""),
    ("网点环境", "门楣、行名行徽、营业时间等标识齐全规范", ""),
    ("宣传物品", "宣传折页、海报、电子屏内容合规,无过期或未经审批的宣传品", ""),
    ("宣传物品", "利率、收费标准、服务价目等公示内容准确、最新", ""),
    ("便民设施", "座椅、饮水、老花镜、笔、填单台等便民设施齐全完好、摆放整齐", ""),
    ("便民设施", "意见簿(箱)、服务评价二维码、投诉电话公示在位", ""),
    ("设备运行", "叫号机、自助设备运行正常,故障已报修并有提示", ""),
    ("设备运行", "星级柜员牌(评价器)全部亮起,工作正常", "R05"),
    ("仪容仪表", "员工统一着装、佩戴工号牌", "R12"),
    ("仪容仪表", "发型、妆容、饰品符合服务规范(晨会互检)", "R03"),
    ("班前准备", "按时参加晨会(晨训),无迟到、缺席", "R01a"),
    ("班前准备", "办公用具准备齐全、摆放有序,无其他杂物", "R02"),
    ("班前准备", "电脑终端已激活,业务系统可正常使用", "R02"),
    ("班前准备", "个人工作区(桌面、键盘、柜台、柜台玻璃)清洁", "R02"),
    ("服务行为", "准时开门营业,按叫号顺序办理业务", "R17"),
    ("服务行为", "使用文明用语和规范手势,无服务禁语", "R04"),
    ("服务行为", "无串岗聊天、吃东西、玩手机、浏览无关网页等现象", "R07"),
    ("服务行为", "大堂经理在岗,主动迎候、引导分流客户", "R05"),
    ("安全管理", "消防通道畅通,消防、监控、报警设施正常", ""),
    ("安全管理", "首问负责制、投诉处理流程及应急预案公示在位", ""),
)
#: (points, fine) of the deductions items can propose (SPEC section 5 catalogue)
RULE_AMOUNTS = {
    "R01a": (Decimal("-1"), Decimal("50")), "R02": (Decimal("-1"), Decimal("50")),
    "R03": (Decimal("-1"), Decimal("50")), "R04": (Decimal("-1"), Decimal("100")),
    "R05": (Decimal("-1"), Decimal("100")), "R07": (Decimal("-2"), Decimal("200")),
    "R12": (Decimal("-1"), Decimal("100")), "R17": (Decimal("-1"), Decimal("100")),
}
DEADLINE_DAYS = 1  # default rectification deadline: the next day
NOTE_MAX = 500
CATEGORY_MAX, TEXT_MAX = 20, 200


def progress(states) -> int:
    """How many items are checked (anything but 未检查)."""
    return sum(state != UNCHECKED for state in states)


def can_sign(states) -> bool:
    """Sign-off needs every one of the 20 items checked."""
    states = list(states)
    return len(states) == ITEMS and progress(states) == ITEMS


def default_deadline(day: date) -> date:
    return day + timedelta(days=DEADLINE_DAYS)


def is_overdue(deadline: date | None, today: date) -> bool:
    """A problem not put right by the end of its deadline day."""
    return deadline is not None and today > deadline


def pass_rate(passed: int, problems: int) -> Fraction | None:
    """合格率 of the items checked, 不适用 left out; None when nothing was judged."""
    judged = passed + problems
    return Fraction(passed, judged) if judged else None


def day_status(day: date, today: date, checked: int | None, signed: bool) -> str:
    """For the calendar: signed, partly done, missed (a past day without sign-off), or open."""
    if signed:
        return "signed"
    if day > today:
        return "future"
    if checked:
        return "partial" if day < today else "open"
    return "missed" if day < today else "open"


def most_failed(numbers, limit: int = 5) -> list[tuple[int, int]]:
    """The item numbers that failed most often, with their counts (ties by number)."""
    counts = Counter(numbers)
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]


def check_template_rows(rows: list[tuple[str, str, str]]) -> dict[int, str]:
    """Problems of an edited template by row number (1-based); empty when it can be saved."""
    problems = {}
    if len(rows) != ITEMS:
        problems[0] = str(_l("清单须正好 20 项。"))
    for number, (category, text, rule) in enumerate(rows, 1):
        if not category.strip() or len(category.strip()) > CATEGORY_MAX:
            problems[number] = str(_l("类别须为 1–20 个字。"))
        elif not text.strip() or len(text.strip()) > TEXT_MAX:
            problems[number] = str(_l("检查内容须为 1–200 个字。"))
        elif rule and rule not in RULE_AMOUNTS:
            problems[number] = str(_l("扣分条款只能是 %(rules)s 之一或留空。",
                                      rules="、".join(RULE_AMOUNTS)))
    return problems


# === stored checklists =======================================================================

def current_template() -> ChecklistTemplate:
    """The template version in force (the newest); the default one when there is none yet."""
    template = db.session.scalar(select(ChecklistTemplate)
                                 .order_by(ChecklistTemplate.version.desc()).limit(1))
    return template if template is not None else save_template(list(DEFAULT_ITEMS), None,
                                                                "默认模板")


def save_template(rows: list[tuple[str, str, str]], actor: Person | None, note: str = "",
                  now: datetime | None = None) -> ChecklistTemplate:
    """A new template version from (category, text, rule code) rows, in order."""
    problems = check_template_rows(rows)
    if problems:
        raise DomainError("; ".join(f"{n}: {p}" if n else p for n, p in problems.items()))
    latest = db.session.scalar(select(ChecklistTemplate)
                               .order_by(ChecklistTemplate.version.desc()).limit(1))
    template = ChecklistTemplate(version=(latest.version + 1) if latest else 1, note=note.strip(),
                                 created_by=actor, **({"created_at": now} if now else {}))
    template.items = [ChecklistItem(number=n, category=c.strip(), text=t.strip(), rule_code=r)
                      for n, (c, t, r) in enumerate(rows, 1)]
    db.session.add(template)
    db.session.flush()
    record("checklist.template_saved", template, actor=actor, version=template.version)
    return template


def sheet_for(outlet: OrgUnit, day: date) -> ChecklistSheet | None:
    return db.session.scalar(select(ChecklistSheet).where(ChecklistSheet.outlet_id == outlet.id,
                                                          ChecklistSheet.day == day))


def open_sheet(outlet: OrgUnit, day: date, actor: Person | None, now: datetime) -> ChecklistSheet:
    """The outlet's sheet of ``day``, created on the template in force when first opened."""
    sheet = sheet_for(outlet, day)
    if sheet is not None:
        return sheet
    template = current_template()
    sheet = ChecklistSheet(outlet=outlet, day=day, template=template, opened_at=now,
                           opened_by_id=actor.id if actor else None)
    sheet.marks = [ChecklistMark(item=item, number=item.number) for item in template.items]
    try:
        with db.session.begin_nested():
            db.session.add(sheet)
            db.session.flush()
    except IntegrityError:  # opened by someone else at the same moment
        return sheet_for(outlet, day)
    _event(sheet, None, "open", actor, now, version=template.version)
    return sheet


def _event(sheet: ChecklistSheet, number: int | None, action: str, actor: Person | None,
           now: datetime, **details) -> None:
    db.session.add(ChecklistEvent(sheet_id=sheet.id, number=number, action=action, at=now,
                                  actor_id=actor.id if actor else None,
                                  details=json.dumps(details, ensure_ascii=False, default=str)
                                  if details else ""))


def lock(sheet: ChecklistSheet) -> ChecklistSheet:
    """Re-read the sheet holding its row, so that marks and sign-off never cross."""
    return db.session.scalar(select(ChecklistSheet).where(ChecklistSheet.id == sheet.id)
                             .with_for_update().execution_options(populate_existing=True))


def outlet_staff(outlet: OrgUnit) -> list[Person]:
    """Who may be named responsible for a problem: the outlet's active people."""
    return list(db.session.scalars(select(Person).where(
        Person.org_unit_id == outlet.id, Person.active).order_by(Person.work_no)))


def people_of(outlet: OrgUnit, work_nos: list[str]) -> list[Person]:
    """The outlet's people with ``work_nos``; anyone else is refused (not silently dropped)."""
    wanted = set(work_nos or [])
    found = [p for p in outlet_staff(outlet) if p.work_no in wanted]
    if len(found) != len(wanted):
        raise DomainError(_l("责任人须为本网点人员。"), "people")
    return found


def mark_of(sheet: ChecklistSheet, number: int) -> ChecklistMark:
    mark = db.session.scalar(select(ChecklistMark).where(ChecklistMark.sheet_id == sheet.id,
                                                         ChecklistMark.number == number))
    if mark is None:
        raise DomainError(_l("没有第 %(number)d 项。", number=number))
    return mark


def editable(sheet: ChecklistSheet, today: date) -> bool:
    """Marks may change on today's unsigned sheet, or on one the service office re-opened."""
    return not sheet.signed and (sheet.day == today or sheet.reopened > 0)


def check_editable(sheet: ChecklistSheet, now: datetime) -> None:
    """Refuse a change to a signed sheet, or to a past day's sheet nobody re-opened."""
    if sheet.signed:
        raise DomainError(_l("该清单已提交,不能再修改。"))
    if not editable(sheet, local_today(now)):
        raise DomainError(_l("只能填写当天的清单。"))


@dataclass
class Problem:
    """What the form says of a problem (不合格)."""

    note: str
    people: list[Person]
    deadline: date | None
    photo: str | None = None  # file name under instance/checklist/, already stored


def mark(sheet: ChecklistSheet, number: int, state: str, actor: Person, now: datetime,
         problem: Problem | None = None) -> ChecklistMark:
    """Set an item to 合格, 不适用, 未检查 or (with ``problem``) 不合格."""
    sheet = lock(sheet)
    check_editable(sheet, now)
    if state not in STATES:
        raise DomainError(_l("请选择检查结果。"))
    item = mark_of(sheet, number)
    before = item.state
    if state == PROBLEM:
        if problem is None or not problem.note.strip():
            raise DomainError(_l("不合格须填写问题说明。"), "note")
        if len(problem.note.strip()) > NOTE_MAX:
            raise DomainError(_l("问题说明不能超过 %(max)d 字。", max=NOTE_MAX), "note")
        outsiders = [p for p in problem.people if p.org_unit_id != sheet.outlet_id]
        if outsiders:
            raise DomainError(_l("责任人须为本网点人员。"), "people")
        deadline = problem.deadline or default_deadline(sheet.day)
        if deadline < sheet.day:
            raise DomainError(_l("整改期限不能早于检查日期。"), "deadline")
        item.note, item.people, item.deadline = problem.note.strip(), problem.people, deadline
        if problem.photo:
            item.photo = problem.photo
    else:
        item.note, item.people, item.deadline, item.photo = "", [], None, None
    item.state, item.marked_by_id, item.marked_at = state, actor.id, now
    item.rectified_at, item.rectified_by_id, item.rectify_note = None, None, ""
    _event(sheet, number, "mark", actor, now, state=state, before=before,
           people=[p.work_no for p in item.people] if state == PROBLEM else [])
    if state == PROBLEM:
        _propose(sheet, item, now)
    return item


def _propose(sheet: ChecklistSheet, item: ChecklistMark, now: datetime) -> None:
    """A named problem proposes the item's deduction for each person, once per sheet and item."""
    rule = item.item.rule_code
    if not rule or not item.people:
        return
    points, money = RULE_AMOUNTS[rule]
    ref = f"{sheet.outlet.code}:{sheet.day.isoformat()}:{item.number}"
    have = set(db.session.scalars(select(PointsProposal.person_id).where(
        PointsProposal.rule_code == rule, PointsProposal.evidence_kind == "checklist",
        PointsProposal.evidence_ref == ref)))
    for person in item.people:
        if person.id in have:
            continue
        proposal = PointsProposal(
            person_id=person.id, org_unit_id=person.org_unit_id, rule_code=rule, points=points,
            money=money, created_at=now, evidence_kind="checklist", evidence_ref=ref,
            reason=f"{sheet.day:%Y-%m-%d} 厅堂检查第 {item.number} 项不合格:{item.note}"[:500])
        db.session.add(proposal)
        db.session.flush()
        record("proposal.created", proposal, in_unit=person.org_unit, rule=rule,
               person=person.work_no, checklist=ref)


def sign(sheet: ChecklistSheet, actor: Person, now: datetime) -> None:
    """提交: only with all 20 checked; the sheet is read-only after (but for rectification)."""
    sheet = lock(sheet)
    check_editable(sheet, now)
    states = list(db.session.scalars(select(ChecklistMark.state)
                                     .where(ChecklistMark.sheet_id == sheet.id)))
    if not can_sign(states):
        raise DomainError(_l("还有 %(count)d 项未检查,全部检查后才能提交。",
                             count=ITEMS - progress(states)))
    sheet.signed_at, sheet.signed_by_id = now, actor.id
    _event(sheet, None, "sign", actor, now)
    record("checklist.signed", sheet, actor=actor, day=sheet.day.isoformat())


def reopen(sheet: ChecklistSheet, actor: Person, reason: str, now: datetime) -> None:
    """The service office re-opens a signed sheet, with a reason."""
    sheet = lock(sheet)
    if not sheet.signed:
        raise DomainError(_l("该清单尚未提交。"))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("请填写重新打开的原因。"), "reason")
    sheet.signed_at, sheet.signed_by_id = None, None
    sheet.reopened += 1
    _event(sheet, None, "reopen", actor, now, reason=reason)
    record("checklist.reopened", sheet, actor=actor, day=sheet.day.isoformat(), reason=reason)


def rectify(item: ChecklistMark, actor: Person, note: str, now: datetime) -> None:
    """整改: a problem put right, with a note of what was done."""
    if not item.open_problem:
        raise DomainError(_l("该问题已整改或不是问题项。"))
    note = (note or "").strip()
    if not note:
        raise DomainError(_l("请填写整改说明。"), "note")
    if len(note) > NOTE_MAX:
        raise DomainError(_l("整改说明不能超过 %(max)d 字。", max=NOTE_MAX), "note")
    item.rectified_at, item.rectified_by_id, item.rectify_note = now, actor.id, note
    _event(item.sheet, item.number, "rectify", actor, now, note=note)
    record("checklist.rectified", item.sheet, actor=actor, day=item.sheet.day.isoformat(),
           number=item.number)


# --- what the pages count ----------------------------------------------------------------------

def _unrectified(outlet_ids: list[int]):
    return (ChecklistSheet.outlet_id.in_(outlet_ids), ChecklistMark.state == PROBLEM,
            ChecklistMark.rectified_at.is_(None))


def open_problems(outlet_ids: list[int]):
    """Every problem not yet put right in ``outlet_ids``, oldest first (a query to paginate)."""
    return (select(ChecklistMark).join(ChecklistMark.sheet).where(*_unrectified(outlet_ids))
            .options(selectinload(ChecklistMark.people))
            .order_by(ChecklistSheet.day, ChecklistMark.number))


def open_problem_count(outlet_ids: list[int]) -> int:
    return db.session.scalar(select(func.count(ChecklistMark.id)).join(ChecklistMark.sheet)
                             .where(*_unrectified(outlet_ids)))


@dataclass(frozen=True)
class DayFigures:
    day: date
    status: str
    checked: int
    passed: int
    problems: int

    @property
    def pass_rate(self) -> Fraction | None:
        return pass_rate(self.passed, self.problems)


def month_figures(outlet: OrgUnit, month: Period, today: date) -> list[DayFigures]:
    """Each day of ``month``: calendar status and counts (two queries)."""
    sheets = {sheet_id: (day, signed) for sheet_id, day, signed in db.session.execute(
        select(ChecklistSheet.id, ChecklistSheet.day, ChecklistSheet.signed_at.is_not(None))
        .where(ChecklistSheet.outlet_id == outlet.id,
               ChecklistSheet.day.between(month.start, month.end)))}
    counts: dict[date, Counter] = {}
    for sheet_id, state, count in db.session.execute(
            select(ChecklistMark.sheet_id, ChecklistMark.state, func.count())
            .where(ChecklistMark.sheet_id.in_(list(sheets)))
            .group_by(ChecklistMark.sheet_id, ChecklistMark.state)):
        counts.setdefault(sheets[sheet_id][0], Counter())[state] += count
    signed = {day for day, is_signed in sheets.values() if is_signed}
    days = []
    for offset in range(month.days):
        day = month.start + timedelta(days=offset)
        found = counts.get(day, Counter())
        checked = found[PASS] + found[PROBLEM] + found[NA]
        days.append(DayFigures(day, day_status(day, today, checked, day in signed), checked,
                               found[PASS], found[PROBLEM]))
    return days


def failed_items(outlet: OrgUnit, period: Period, limit: int = 5) -> list[tuple[int, str, int]]:
    """(number, text as on the sheet, failures) of the items failing most in ``period``."""
    rows = db.session.execute(
        select(ChecklistMark.number, ChecklistItem.text)
        .join(ChecklistMark.sheet).join(ChecklistMark.item)
        .where(ChecklistSheet.outlet_id == outlet.id, ChecklistMark.state == PROBLEM,
               ChecklistSheet.day.between(period.start, period.end))).all()
    # by number and text: after a re-ordered template version one number names another item
    return [(number, text, count)
            for (number, text), count in most_failed([tuple(row) for row in rows], limit)]
