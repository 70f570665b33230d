"""The monthly notice (月度通报) of one outlet (SPEC section 8).

The month is chosen by a pure rule first; the notice itself is read from what the other
features already compute (the ledger's balances and warnings, the ratings measures behind the
API, the complaint measures, the checklist history, the honours of the month), section by
section, in a fixed number of queries whatever the outlet's size. Each section is a table of
plain values, so the page and the .xlsx download show the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from ...extensions import db
from ...models import LOBBY, MANAGER, TELLER, OrgUnit, Person
from ...periods import BadPeriod, Period, parse, previous_month
from ...templating import localtime
from ...timeutil import utc_span
from ..checklist import services as checklist
from ..checklist.history import FAILED_HEADER, KINDS, kind
from ..complaints import reports as complaint_reports
from ..complaints import services as complaints
from ..complaints.forms import (CATEGORY_LABELS, CHANNEL_LABELS, FINDING_LABELS, LEVEL_LABELS,
                                STATUS_LABELS)
from ..complaints.models import Complaint
from ..honours.services import month_honours
from ..ledger import services as ledger
from ..ledger.forms import KIND_LABELS
from ..ledger.models import CONFIRMED, LedgerEntry
from ..ratings import services as ratings
from ..ratings.dashboard import figures, level_text

FIRST_YEAR = 2000
PEOPLE_ROLES = (TELLER, LOBBY, MANAGER)  # the people of an outlet with a points ledger
MONTH_FORMAT = _l("请按 YYYY-MM 格式填写月份,如 2026-10。")
MONTH_TOO_EARLY = _l("月份不能早于 2000 年。")


class BadMonth(ValueError):
    """The month asked for cannot be reported on; ``message`` says why, for the page."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- pure rules -----------------------------------------------------------------------------

def notice_month(text: str | None, today: date) -> Period:
    """The month a notice is about: ``YYYY-MM``, by default the previous calendar month (a
    notice reports on a finished month); raise BadMonth for anything else or a future month."""
    text = (text or "").strip()
    if not text:
        return previous_month(today)
    try:
        month = parse(text) if text.isascii() else None
    except BadPeriod:
        month = None
    if month is None or "Q" in month.label:
        raise BadMonth(MONTH_FORMAT)
    if month.start.year < FIRST_YEAR:
        raise BadMonth(MONTH_TOO_EARLY)
    if month.start > today:
        raise BadMonth(_l("%(month)s 尚未开始,没有可通报的数据。", month=month.label))
    return month


def balance_day(month: Period, today: date) -> date:
    """The day balances are read on: the month's last day, or today while the month runs."""
    return min(month.end, today)


def month_net(before: dict[int, Decimal], after: dict[int, Decimal]) -> dict[int, Decimal]:
    """Each person's change over the month from the balances on either side of it."""
    return {pid: after[pid] - before.get(pid, ledger.BASE_POINTS) for pid in after}


# --- the notice -----------------------------------------------------------------------------

@dataclass
class Table:
    """One table of the notice: a sheet of the download, a table on the page."""

    key: str
    title: str
    header: list[str]
    rows: list[list]
    empty: str = ""
    hint: str = ""
    marked: set[int] = field(default_factory=set)  # rows to set apart (manager charges)


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table]


@dataclass
class Notice:
    outlet: OrgUnit
    month: Period
    generated_at: datetime
    running: bool  # the month has not ended yet
    sections: list[Section]

    def sheets(self) -> list[tuple[str, list[str], list[list]]]:
        """(sheet title, header, rows) per table, as portal.xlsx takes them."""
        return [(table.title, table.header, table.rows)
                for section in self.sections for table in section.tables]


def _strings(labels) -> list[str]:
    return [str(label) for label in labels]


def _people(outlet: OrgUnit, month: Period) -> list[Person]:
    """The outlet's active staff, and those gone since who have entries in the month."""
    with_entries = select(LedgerEntry.person_id).where(
        LedgerEntry.org_unit_id == outlet.id, LedgerEntry.day.between(month.start, month.end))
    return list(db.session.scalars(select(Person).where(
        Person.org_unit_id == outlet.id, Person.role.in_(PEOPLE_ROLES),
        or_(Person.active, Person.id.in_(with_entries))).order_by(Person.work_no)))


def _entry_kind(entry: LedgerEntry) -> str:
    if entry.rule_code == ledger.MGR:
        return gettext("管理连带")
    rule = ledger.RULES.get(entry.rule_code)
    return str(KIND_LABELS[rule.kind]) if rule else ""


def _rule_title(entry: LedgerEntry) -> str:
    rule = ledger.RULES.get(entry.rule_code)
    return rule.title if rule else gettext("管理连带")


def entries_table(outlet: OrgUnit, month: Period) -> Table:
    """The month's confirmed entries of the outlet, manager charges included and marked."""
    entries = db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.org_unit_id == outlet.id, LedgerEntry.status == CONFIRMED,
        LedgerEntry.day.between(month.start, month.end))
        .order_by(LedgerEntry.day, LedgerEntry.id)).all()
    rows = [[e.day, e.person.work_no, e.person.name, e.rule_code, _rule_title(e),
             float(e.points), float(e.money), _entry_kind(e), e.reason] for e in entries]
    return Table("entries", gettext("积分明细"),
                 _strings((_l("日期"), _l("工号"), _l("姓名"), _l("条款"), _l("条款内容"),
                           _l("分值"), _l("金额(元)"), _l("类别"), _l("事由"))),
                 rows, empty=gettext("本月没有已生效的积分记录。"),
                 hint=gettext("只列已生效的记录;“管理连带”是网点负责人因本网点人员扣分而被连带扣除的分值。"),
                 marked={i for i, e in enumerate(entries) if e.rule_code == ledger.MGR})


def balances_table(outlet: OrgUnit, month: Period, today: date) -> Table:
    """Each person's balance at the month's end (today while it runs) and its change."""
    people = _people(outlet, month)
    ids = [p.id for p in people]
    until = balance_day(month, today)
    after = ledger.balances(ids, until.year, until)
    before = ledger.balances(ids, month.start.year, month.start - timedelta(days=1))
    change = month_net(before, after)
    warned = ledger.warnings(ids, today)
    yes, no = gettext("戒勉中"), gettext("正常")
    rows = [[p.work_no, p.name, p.role_label, float(change[p.id]), float(after[p.id]),
             yes if p.id in warned else no] for p in people]
    balance_label = gettext("积分余额(截至 %(day)s)", day=until.isoformat())
    return Table("balances", gettext("积分余额"),
                 _strings((_l("工号"), _l("姓名"), _l("岗位"), _l("本月加减分")))
                 + [balance_label, gettext("目前戒勉状态")],
                 rows, empty=gettext("该网点没有人员。"),
                 hint=gettext("积分余额 = 基础分 12 + 当年截至 %(day)s 已生效的加减分;"
                              "戒勉状态按今天(%(today)s)计算。", day=until.isoformat(),
                              today=today.isoformat()))


def ratings_table(outlet: OrgUnit, month: Period) -> Table:
    """Per active teller: the month's measures and the level they give, as the API answers
    ``GET /api/v1/people/<work_no>/ratings?period=YYYY-MM``."""
    tellers = list(db.session.scalars(select(Person).where(
        Person.org_unit_id == outlet.id, Person.role == TELLER, Person.active.is_(True))
        .order_by(Person.work_no)))
    measures = ratings.measures_for([t.id for t in tellers], month)
    thresholds = ratings.thresholds()
    rows = []
    for teller in tellers:
        shown = figures(measures[teller.id])
        rows.append([teller.work_no, teller.name, shown["ratings"], shown["average"],
                     shown["satisfaction"], shown["evaluation"], shown["on"], shown["upheld"],
                     level_text(ratings.star_level(measures[teller.id], thresholds))])
    return Table("ratings", gettext("星级评价"),
                 _strings((_l("工号"), _l("姓名"), _l("评价数"), _l("平均星级"), _l("满意率"),
                           _l("评价率"), _l("开机率"), _l("属实投诉"), _l("本月指标对应星级"))),
                 rows, empty=gettext("本网点没有在岗柜员。"),
                 hint=gettext("星级按本月指标和现行星级标准计算,与季度评定的星级不同;"
                              "没有业务量时比率显示“—”。"))


def _complaints(outlet: OrgUnit, month: Period) -> list[Complaint]:
    start, end = utc_span(month.start, month.end)
    return list(db.session.scalars(
        select(Complaint).where(Complaint.outlet_id == outlet.id, Complaint.received_at >= start,
                                Complaint.received_at < end)
        .options(joinedload(Complaint.first_owner), selectinload(Complaint.responsible))
        .order_by(Complaint.received_at, Complaint.id)))


def complaint_tables(outlet: OrgUnit, month: Period, now: datetime) -> list[Table]:
    """The complaints received in the month, and the outlet's complaint measures."""
    found = _complaints(outlet, month)
    rows = [[c.ticket, localtime(c.received_at), str(CHANNEL_LABELS[c.channel]),
             str(CATEGORY_LABELS[c.category]), str(LEVEL_LABELS[c.level]),
             str(STATUS_LABELS[c.status]), str(FINDING_LABELS[c.finding]) if c.finding else "",
             "、".join(p.name for p in c.responsible),
             c.first_owner.name if c.first_owner else ""] for c in found]
    listed = Table("complaints", gettext("投诉明细"),
                   _strings((_l("单号"), _l("受理时间"), _l("渠道"), _l("类别"), _l("投诉层级"),
                             _l("状态"), _l("调查结论"), _l("责任人"), _l("首问责任人"))),
                   rows, empty=gettext("本月没有受理投诉。"))
    measures = complaints.outlet_measures([outlet], month, now)[outlet.id]
    summary = Table("complaint_measures", gettext("投诉指标"),
                    _strings(complaint_reports.HEADER),
                    [complaint_reports.cells({"outlet": outlet, "m": measures})],
                    hint=gettext("按本月受理的投诉计算,与“投诉指标”页相同;没有分母时显示“—”。"))
    return [listed, summary]


def checklist_tables(outlet: OrgUnit, month: Period, today: date) -> list[Table]:
    """The month's checklist completion and the items that failed most often."""
    days = checklist.month_figures(outlet, month, today)
    kinds = [kind(day) for day in days]
    rate = checklist.pass_rate(sum(d.passed for d in days), sum(d.problems for d in days))
    completion = Table(
        "checklist", gettext("厅堂检查完成情况"),
        [str(KINDS[name][0]) for name in ("signed", "partial", "missed", "progress", "none")]
        + [gettext("合格率")],
        [[kinds.count(name) for name in ("signed", "partial", "missed", "progress", "none")]
         + [ratings.percent(rate)]],
        hint=gettext("按天计:已提交、部分完成、漏检;合格率 = 合格项 ÷(合格项 + 不合格项)。"))
    failed = checklist.failed_items(outlet, month)
    items = Table("failed_items", gettext("不合格最多的项目"), _strings(FAILED_HEADER),
                  [[rank, number, text, count]
                   for rank, (number, text, count) in enumerate(failed, 1)],
                  empty=gettext("本月没有不合格项。"))
    return [completion, items]


def honours_table(outlet: OrgUnit, month: Period) -> Table:
    """The titles the outlet's people received for the month (the honours board's)."""
    items = month_honours(outlet, month)
    return Table("honours", gettext("光荣榜"),
                 _strings((_l("称号"), _l("姓名"), _l("工号"), _l("事迹"), _l("期间"))),
                 [[item.title, item.name, item.work_no, item.citation, item.period]
                  for item in items],
                 empty=gettext("本月没有获得荣誉的人员。"))


def notice(outlet: OrgUnit, month: Period, today: date, now: datetime) -> Notice:
    """The whole monthly notice of ``outlet`` for ``month``."""
    sections = [
        Section("points", gettext("积分"), [entries_table(outlet, month),
                                            balances_table(outlet, month, today)]),
        Section("ratings", gettext("星级评价"), [ratings_table(outlet, month)]),
        Section("complaints", gettext("投诉"), complaint_tables(outlet, month, now)),
        Section("checklist", gettext("厅堂检查"), checklist_tables(outlet, month, today)),
        Section("honours", gettext("光荣榜"), [honours_table(outlet, month)]),
    ]
    return Notice(outlet, month, now, month.end >= today, sections)
