"""A year of demo ledger history for both demo outlets, made through the real actions.

Entries are recorded (at 10:30 local time on their day) and confirmed (at 17:30) through
``services`` with explicit moments, so doubling, manager charges and the pile-up come out
exactly as the portal itself would make them. The schedule is fixed, in days before
``today`` (a Sunday moves to the Saturday before, the outlets being closed):

- a few deductions per person per quarter, mostly 晨训/迟到 (R01a/R01b/R02, which charge the
  manager only through the pile-up) and R03–R17, and awards (A03–A05); the monthly stars'
  A01 and the 委屈奖's A06 come from the honours demo, through the approval of each honour;
- T1002's second R04 twelve days after the first is doubled; T1001, T1003 and T1006 missed
  the morning training on the same day (pile-up: one more charge for M0001);
- T1004 had three deductions in the last 30 days and is in warning now; T2003 was in warning
  half a year ago and passed remedial training, which ended it;
- T1005's R17 was revoked two days later (the queue system had failed), with its charge;
- two deductions recorded in the last days wait for confirmation, and T2004's fine of nine
  days ago is still unpaid, so the daily fines check has proposed R22 for it; every other
  fine older than five days was paid the day after confirmation.

Each person's deductions and charges over the whole year stay above −11 points, so nobody
but T1004 is in the warning state wherever the new year falls.
"""
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from ...extensions import db
from ...models import MANAGER, OFFICE, Person
from ...timeutil import LOCAL_TZ, local_today, utcnow
from . import services
from .models import CONFIRMED, LedgerEntry

D = Decimal
RECORDED_AT, CONFIRMED_AT = time(10, 30), time(17, 30)
PAID_AFTER = 5  # fines confirmed at least this many days ago were paid (but one)

# (days before today, work number, rule, reason, extra arguments of services.record)
DEDUCTIONS = (
    # 营业部网点 ZJK-001
    (330, "T1001", "R12", "柜台桌面堆放私人物品,未及时整理。", {}),
    (260, "T1001", "R01a", "无故缺席晨训。", {}),
    (205, "T1001", "R05", "接待客户未起身迎接,未使用文明用语。", {}),
    (47, "T1001", "R01a", "无故缺席晨训。", {}),
    (300, "T1002", "R01b", "迟到 15 分钟,未登记。", {}),
    (130, "T1002", "R04", "客户询问时回答“不知道,自己看”。", {}),
    (118, "T1002", "R04", "再次对客户使用服务禁语。", {}),
    (20, "T1002", "R16", "电话响铃 8 声无人接听。", {}),
    (340, "T1003", "R02", "晨训前未清点备用金、未准备凭证。", {}),
    (230, "T1003", "R11a", "首问未负责,客户被多次转窗口。", {"responsibility": True}),
    (47, "T1003", "R01a", "无故缺席晨训。", {}),
    (310, "T1004", "R03", "营业时间着便装上岗。", {}),
    (150, "T1004", "R01b", "中途离岗 20 分钟未登记。", {}),
    (26, "T1004", "R17", "未按叫号顺序办理,客户投诉插队。", {}),
    (15, "T1004", "R12", "未佩戴工号牌。", {}),
    (6, "T1004", "R05", "未使用星级柜员牌,未双手递送单据。", {}),
    (290, "T1005", "R01a", "无故缺席晨训。", {}),
    (180, "T1005", "R12", "柜台及桌面脏乱。", {}),
    (75, "T1005", "R17", "以内部事务为由暂停叫号 20 分钟。", {}),
    (35, "T1005", "R09", "对挂失手续解释不清,客户不满。", {}),
    (350, "T1006", "R02", "晨训前未检查机具。", {}),
    (160, "T1006", "R10", "与客户争执手续费问题。", {}),
    (47, "T1006", "R01b", "迟到 10 分钟,未登记。", {}),
    (10, "T1006", "R02", "晨训前未准备好凭证。", {}),
    (270, "L0001", "R03", "非营业时间无故进出营业区。", {}),
    (100, "L0001", "R09", "引导客户办理业务解释有误,客户往返两次。", {}),
    (55, "L0001", "R11a", "首问未负责,未跟进客户诉求。", {}),
    # 桥东网点 ZJK-002
    (320, "T2001", "R01a", "无故缺席晨训。", {}),
    (240, "T2001", "R07", "营业时间串岗聊天。", {}),
    (95, "T2001", "R12", "未按规定着装。", {}),
    (30, "T2001", "R05", "接待客户未使用文明用语。", {}),
    (280, "T2002", "R16", "电话未使用文明用语。", {}),
    (190, "T2002", "R02", "晨训前未做好班前准备。", {}),
    (70, "T2002", "R04", "对客户使用禁用手势。", {}),
    (300, "T2003", "R01b", "早退未登记。", {}),
    (225, "T2003", "R06", "会客过长,客户等候 15 分钟。", {}),
    (214, "T2003", "R01a", "无故缺席晨训。", {}),
    (203, "T2003", "R09", "对客户业务要求处理不当,引起不满。", {}),
    (120, "T2003", "R12", "柜台桌面脏乱。", {}),
    (40, "T2003", "R16", "电话响铃 7 声无人接听。", {}),
    (335, "T2004", "R02", "晨训前未准备好凭证。", {}),
    (250, "T2004", "R17", "业务差错,重复扣款后冲正。", {}),
    (165, "T2004", "R12", "未佩戴工号牌。", {}),
    (80, "T2004", "R01a", "无故缺席晨训。", {}),
    (9, "T2004", "R16", "电话响铃 6 声无人接听。", {}),
    (310, "L0002", "R09", "对客户咨询解释不当。", {}),
    (150, "L0002", "R03", "接待客户不符合标准化流程。", {}),
    (60, "L0002", "R11a", "未认真执行首问负责制。", {}),
    (110, "M0002", "M01", "未及时组织传达服务规范,致员工违规。", {}),
)
AWARDS = (
    (100, "T1001", "A03", "客户来信表扬耐心细致。", {}),
    (60, "T2001", "A03", "客户送锦旗表扬。", {}),
    (200, "L0002", "A03", "客户来信表扬热情引导。", {}),
    (170, "M0001", "A05", "网点服务工作受到分行通报表扬。", {}),
    (250, "M0002", "A05", "网点服务工作受到分行通报表扬。", {}),
    (30, "T1006", "A05", "受到分行通报表扬。", {}),
    (140, "T2002", "A04", "识破冒充公检法诈骗,为客户挽回损失 5 万元。", {}),
)
REVOKED = ("T1005", "R17", 73, "经查为叫号系统故障所致,非本人原因。")
TRAINED = ("T2003", 190, "戒勉谈话后参加下岗培训,考核合格。")
WAITING = ((1, "T1003", "R12", "柜台上放有水杯和手机。"),
           (2, "T2002", "R05", "接待客户未使用规范动作。"))
UNPAID = ("T2004", "R16")  # the fine the daily check found unpaid


def _at(day: date, clock: time) -> datetime:
    """A local moment of ``day`` as stored (naive UTC)."""
    return datetime.combine(day, clock, tzinfo=LOCAL_TZ).astimezone(timezone.utc).replace(
        tzinfo=None)


def _day(today: date, offset: int) -> date:
    day = today - timedelta(days=offset)
    return day - timedelta(days=1) if day.weekday() == 6 else day


def seed_history(today: date) -> None:
    """Add a year of ledger history for the demo people (no commit)."""
    people = {p.work_no: p for p in db.session.scalars(select(Person))}
    office = next(p for p in people.values() if p.role == OFFICE)
    managers = {p.org_unit_id: p for p in people.values() if p.role == MANAGER}

    def boss(person: Person) -> Person:
        return office if person.role == MANAGER else managers[person.org_unit_id]

    schedule = sorted(DEDUCTIONS + AWARDS, key=lambda item: -item[0])
    made = {}
    for offset, work_no, code, reason, extra in schedule:
        person, day = people[work_no], _day(today, offset)
        entry = services.record(person, code, day, _at(day, RECORDED_AT), reason=reason,
                                actor=boss(person), **extra)
        services.confirm(entry, boss(person), _at(day, CONFIRMED_AT))
        made[(work_no, code, offset)] = entry
        if (work_no, code, offset) == (REVOKED[0], REVOKED[1], REVOKED[2] + 2):
            later = _day(today, REVOKED[2])
            services.revoke(entry, boss(person), REVOKED[3], _at(later, time(11, 0)))
        if (work_no, offset) == (TRAINED[0], TRAINED[1] + 13):  # the third of the warning
            trained_on = _day(today, TRAINED[1])
            services.record_training(person, trained_on, TRAINED[2], boss(person),
                                     _at(trained_on, time(16, 0)))
    for offset, work_no, code, reason in WAITING:
        person, day = people[work_no], _day(today, offset)
        services.record(person, code, day, _at(day, RECORDED_AT), reason=reason,
                        actor=boss(person))
    _fines(today, made)


def _fines(today: date, made: dict) -> None:
    """Fines confirmed five or more days ago were paid the next day, but one; then the daily
    check (06:00) proposes R22 for that one."""
    unpaid = next(entry for (work_no, code, _), entry in made.items()
                  if (work_no, code) == UNPAID)
    for entry in db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.status == CONFIRMED, LedgerEntry.money > 0, LedgerEntry.points < 0,
            LedgerEntry.fine_paid_on.is_(None))):
        confirmed_on = local_today(entry.confirmed_at)
        if entry is not unpaid and (today - confirmed_on).days >= PAID_AFTER:
            entry.fine_paid_on = confirmed_on + timedelta(days=1)
    db.session.flush()
    services.fines_check(today, min(_at(today, time(6, 0)), utcnow()))
