"""Demo honours, made through the real actions (nominate, then approve or leave waiting).

Runs after the ledger demo: the monthly stars' A01 awards and T1002's 委屈奖 (A06) reach the
ledger through their approval, confirmed on the day the office approved them, so the ledger
history reads as the portal itself would have written it.

- each outlet's 月度服务明星 for each of the last six completed months, nominated on the 25th
  and approved on the month's last business day (an A01 entry each);
- a few 岗位能手 and 新锐标兵; T1002's 委屈奖 85 days ago (2 points, ¥100);
- last year's 年度文优服务标兵 (two of the sub-branch's five places);
- waiting: last month's 岗位能手 (T1004) and 新锐标兵 (T2004); T1002's 新锐标兵 of last month
  was not approved, with the office's note.
"""
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from ...extensions import db
from ...models import MANAGER, OFFICE, Person
from ...periods import month_of
from ...timeutil import LOCAL_TZ, utcnow
from . import services

MONTHS = 6
STARS = {  # per outlet, the month's star, the latest completed month first
    "ZJK-001": ("T1001", "T1005", "T1002", "T1006", "L0001", "T1003"),
    "ZJK-002": ("T2001", "T2002", "T2004", "T2001", "L0002", "T2003"),
}
STAR_CITATIONS = (
    "当月评价 {n} 条,满意率 100%,多次主动为老年客户上门办理业务。",
    "耐心细致,当月无差错、无投诉,客户多次当面表扬。",
    "熟练办理对公开户等复杂业务,平均办理时长全网点最短。",
)
OTHER_TITLES = (  # (months back, title, work number, citation)
    (2, "post_expert", "T1003", "技能测评点钞、录入两项第一,带教新员工两名。"),
    (3, "rising_star", "T1006", "入行两年,主动学习理财业务并取得从业资格。"),
    (4, "post_expert", "T2002", "熟练掌握反诈识别流程,当月堵截可疑交易三笔。"),
)
GRIEVANCE = (85, "T1002", "面对无理取闹的客户耐心解释,妥善处理,未与客户发生争执。",
             Decimal(2), Decimal(100))
YEARLY = (("T1001", "全年无投诉,积分全网点第一,多次获评月度服务明星。"),
          ("T2001", "全年服务评价满意率 99.8%,带动网点服务水平整体提升。"))
WAITING = ((1, "post_expert", "T1004", "主动承担大堂分流工作,客户等候时间明显缩短。"),
           (1, "rising_star", "T2004", "新入职半年,业务差错率为零。"))
REJECTED = (1, "rising_star", "T1002", "推荐理由不充分:入行已满五年,不符合新锐标兵条件。")


def _at(day: date, clock: time) -> datetime:
    """A local moment of ``day`` as stored (naive UTC)."""
    return datetime.combine(day, clock, tzinfo=LOCAL_TZ).astimezone(timezone.utc).replace(
        tzinfo=None)


def _workday(day: date) -> date:
    return day - timedelta(days=1) if day.weekday() == 6 else day


def _months_back(today: date, count: int):
    first = today.replace(day=1)
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
    return month_of(first)


def seed_history(today: date) -> None:
    """Add the demo honours (no commit)."""
    people = {p.work_no: p for p in db.session.scalars(select(Person))}
    office = next(p for p in people.values() if p.role == OFFICE)
    managers = {p.org_unit_id: p for p in people.values() if p.role == MANAGER}
    clock = utcnow()

    def nominate(work_no, title, label, citation, when):
        person = people[work_no]
        return services.nominate(managers[person.org_unit_id], person, title, label, citation,
                                 min(when, clock))

    for back in range(1, MONTHS + 1):
        period = _months_back(today, back)
        decided = _workday(period.end)
        for outlet, stars in STARS.items():
            work_no = stars[back - 1]
            citation = STAR_CITATIONS[back % len(STAR_CITATIONS)].format(n=40 + 7 * back)
            honour = nominate(work_no, "monthly_star", period.label, citation,
                              _at(period.start + timedelta(days=24), time(10, 0)))
            services.approve(honour, office, _at(decided, time(16, 0)), "同意。")
    for back, title, work_no, citation in OTHER_TITLES:
        period = _months_back(today, back)
        honour = nominate(work_no, title, period.label, citation,
                          _at(period.start + timedelta(days=25), time(10, 0)))
        services.approve(honour, office, _at(_workday(period.end), time(16, 30)))
    offset, work_no, citation, points, money = GRIEVANCE
    day = _workday(today - timedelta(days=offset))
    honour = nominate(work_no, "grievance", day.isoformat(), citation, _at(day, time(10, 0)))
    services.approve(honour, office, _at(day, time(16, 0)), "情况属实,予以奖励。", points, money)
    last_year = today.year - 1
    for work_no, citation in YEARLY:
        honour = nominate(work_no, "yearly_model", str(last_year), citation,
                          _at(date(last_year, 12, 20), time(10, 0)))
        services.approve(honour, office, _at(date(last_year, 12, 28), time(15, 0)))
    back, title, work_no, note = REJECTED
    period = _months_back(today, back)
    honour = nominate(work_no, title, period.label, "服务热情,客户评价好。",
                      _at(period.start + timedelta(days=26), time(10, 0)))
    services.reject(honour, office, note, _at(_workday(period.end), time(17, 0)))
    for back, title, work_no, citation in WAITING:
        period = _months_back(today, back)
        nominate(work_no, title, period.label, citation, _at(today, time(9, 0)))
