"""The 12-point service ledger (SPEC section 5).

The rules come first as pure functions (no app, no database); the stored entries follow:
recording, confirming with repeat doubling, manager charges and the same-day pile-up, revoking,
balances, the warning state and fines. Points are Decimals with one decimal place, deductions
negative; money is yuan with two places.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select

from ... import concurrency
from ...audit import record as audit
from ...database import read
from ...errors import DomainError
from ...extensions import db
from ...models import LOBBY, MANAGER, TELLER, Person
from ...proposals import CONFIRMED as PROPOSAL_CONFIRMED
from ...proposals import DISMISSED as PROPOSAL_DISMISSED
from ...proposals import PROPOSED as PROPOSAL_OPEN
from ...proposals import PointsProposal
from ...timeutil import local_today
from .models import (CONFIRMED, PROPOSED, REVOKED, LedgerEntry, LedgerEvent, LedgerRuleAmounts,
                     Training)

BASE_POINTS = Decimal("12")
REPEAT_DAYS = 30  # a deduction under the same rule within 30 days before doubles
WARNING_DEDUCTIONS, WARNING_DAYS = 3, 30  # three confirmed deductions within 30 days
FINE_DUE_DAYS, FINE_GRACE_DAYS = 3, 2  # fines due 3 days after confirmation; R22 2 days later
PILEUP_AT = 3  # person-times under one pile-up group in one outlet on one day
MANAGER_SHARE = Decimal("0.5")  # without 管理责任 the outlet manager is charged half
MGR = "MGR"  # 管理连带: a manager charge, an entry of its own

DEDUCTION, AWARD, MANAGER_RULE = "deduction", "award", "manager"  # M01/M02: the manager's own


def D(text) -> Decimal:
    return Decimal(str(text))


@dataclass(frozen=True)
class Rule:
    """A rule of the catalogue: points and money as (low, high) ranges, deductions negative."""

    code: str
    kind: str
    title: str
    points: tuple[Decimal, Decimal]
    money: tuple[Decimal, Decimal]
    manager_points: tuple[Decimal, Decimal] | None = None  # the rule's own manager charge
    manager_money: tuple[Decimal, Decimal] | None = None
    pileup: str = ""  # the pile-up group whose 3+ person-times a day charge the manager
    recorder_sets: bool = False  # R21: any amount the recorder sets

    @property
    def is_deduction(self) -> bool:
        return self.kind in (DEDUCTION, MANAGER_RULE)


def _r(code, title, points, money, manager=None, pileup="", kind=DEDUCTION, recorder_sets=False):
    lo_p, hi_p = (points, points) if not isinstance(points, tuple) else points
    lo_m, hi_m = (money, money) if not isinstance(money, tuple) else money
    mp = mm = None
    if manager:
        p, m = manager
        mp = (D(p), D(p)) if not isinstance(p, tuple) else (D(p[0]), D(p[1]))
        mm = (D(m), D(m)) if not isinstance(m, tuple) else (D(m[0]), D(m[1]))
    return Rule(code, kind, title, (D(lo_p), D(hi_p)), (D(lo_m), D(hi_m)), mp, mm, pileup,
                recorder_sets)


#: the catalogue of SPEC section 5 (codes fixed; the service office may adjust amounts)
CATALOGUE = (
    _r("R01a", "无故不参加晨训", -1, 50, pileup="R01"),
    _r("R01b", "迟到、早退、中途离岗未登记", -1, 100, pileup="R01"),
    _r("R02", "晨训前未按规定做好班前准备(每项)", -1, 50, pileup="R02"),
    _r("R03", "仪容、举止、用语或接待不符合标准化流程等(每项)", -1, 50),
    _r("R03b", "违规开门或接待非营业区人员", -2, 100),
    _r("R04", "使用服务禁语或禁用手势", -1, 100),
    _r("R05", "接待客户未使用文明用语、规范动作及星级柜员牌(每项)", -1, 100),
    _r("R06", "会客过长或做无关事情延长客户等候;带小孩进入办公区", -1, 100),
    _r("R07", "串岗聊天、大声说笑、吃东西等(每项)", -2, 200, manager=(-1, 100)),
    _r("R08", "柜组无人接待等引起投诉或抱怨", (-3, -2), (200, 300), manager=(-1, 100)),
    _r("R09", "对客户业务要求解释、处理不当引起不满", -1, 50),
    _r("R10", "与客户争吵、争执,或回答严重不正确致使客户不满", -3, 300, manager=(-1, 100)),
    _r("R11a", "未认真执行首问负责制,致使客户不满意", -1, 100),
    _r("R11b", "应办不办、应办完未办完,或推诿、拖延、扯皮", (-3, -2), (200, 300)),
    _r("R12", "柜台及桌面脏乱差;不按规定着装、未佩戴工号牌", -1, 100),
    _r("R13", "擅自离岗半小时以上未请假", (-3, -1), (100, 300)),
    _r("R14", "对外营业时间内不能办理业务或提前停办", (-3, -2), (200, 300), manager=(-1, 100)),
    _r("R15", "星级柜员:开机率<100%、满意率<99%或评价率<85%", -1, 100),
    _r("R16", "电话响6声无人接听或未使用文明用语", -1, 50),
    _r("R17", "未按叫号顺序办理、差错,或以内部事务为由不叫号(每项)", -1, 100),
    _r("R18", "意见簿(箱)中被客户点名批评,经查属实", -2, 200),
    _r("R19", "服务规范差、使用忌语造成客户投诉,经查属实", (-5, -2), (200, 500)),
    _r("R19b", "客户投诉到分行或以上机构,经查属实", (-8, -3), (300, 800),
       manager=((-4, -2), (200, 400))),
    _r("R19c", "被新闻媒体曝光", (-10, -5), (500, 1000), manager=((-5, -2), (200, 500))),
    _r("R20", "业务技能、考试达不到要求", -2, 200),
    _r("R21", "其他违规(检查组认定)", (-12, 0), (0, 10000), recorder_sets=True),
    _r("R22", "罚款逾期两日未交", -1, 0),
    _r("M01", "组织传达学习不及时致员工违规", -2, 200, kind=MANAGER_RULE),
    _r("M02", "上级检查中排名最末", -5, 500, kind=MANAGER_RULE),
    _r("A01", "月度服务明星", 1, 100, kind=AWARD),
    _r("A02", "建设性意见被采纳推广", 1, 100, kind=AWARD),
    _r("A03", "客户表扬信,或市级以上主要媒体报道", 2, 0, kind=AWARD),
    _r("A03b", "省级媒体报道", 3, 0, kind=AWARD),
    _r("A04", "识别堵截金融诈骗,使客户资金免受损失", 3, 0, kind=AWARD),
    _r("A05", "受到上级行通报表扬", 2, 0, kind=AWARD),
    _r("A06", "委屈奖:对无理取闹的客户容忍克制、耐心解释、妥善处理", (1, 3), (50, 300), kind=AWARD),
    _r("A07", "技术测评获一级能手", 1, 200, kind=AWARD),
    _r("A08", "技能比赛获前三名", (1, 3), (200, 600), kind=AWARD),
)
RULES = {rule.code: rule for rule in CATALOGUE}
PILEUP_CHARGE = (D(-1), D(50))  # R01a/R01b/R02: 3+ person-times a day → −1, ¥50 for the manager


def in_range(value: Decimal, bounds: tuple[Decimal, Decimal]) -> bool:
    low, high = sorted(bounds)
    return low <= value <= high


def default_amounts(rule: Rule) -> tuple[Decimal, Decimal]:
    """Points and money when the recorder gives none: the mildest end of each range."""
    points = min(rule.points, key=abs)
    money = min(rule.money, key=abs)
    return points, money


def is_repeat(day: date, earlier_days: list[date]) -> bool:
    """30天内重犯: a confirmed deduction under the same rule within the 30 days up to ``day``."""
    return any(day - timedelta(days=REPEAT_DAYS) <= other <= day for other in earlier_days)


def doubled(points: Decimal, money: Decimal, repeat: bool) -> tuple[Decimal, Decimal]:
    return (points * 2, money * 2) if repeat else (points, money)


def one_decimal(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def manager_charge(rule: Rule, points: Decimal, money: Decimal,
                   responsibility: bool) -> tuple[Decimal, Decimal] | None:
    """What a confirmed deduction (after doubling) charges the outlet manager, or None.

    The rule's own manager charge applies where it names one; pile-up rules charge only by the
    pile-up; otherwise the same amounts with 管理责任, half of them without.
    """
    if rule.kind != DEDUCTION or rule.pileup:
        return None
    if rule.manager_points is not None:
        return min(rule.manager_points, key=abs), min(rule.manager_money, key=abs)
    if responsibility:
        return points, money
    return one_decimal(points * MANAGER_SHARE), cents(money * MANAGER_SHARE)


def pileup_reached(before: int, after: int) -> bool:
    """The day's person-times under a pile-up group reach 3 with this entry (charged once)."""
    return before < PILEUP_AT <= after


def three_within(days: list[date], count: int = WARNING_DEDUCTIONS,
                 span: int = WARNING_DAYS) -> date | None:
    """The first day on which ``count`` of ``days`` fall within ``span`` days; None if never."""
    ordered = sorted(days)
    for i in range(count - 1, len(ordered)):
        if (ordered[i] - ordered[i - count + 1]).days < span:
            return ordered[i]
    return None


def grade_cap(points: Decimal, complaints: int) -> str | None:
    """年终绩效等级上限: the strictest line that holds."""
    if points < 6 and complaints > 3:
        return "D"
    if points <= 6 and complaints >= 3:
        return "C"
    if (points <= 8 and complaints >= 2) or (points <= 10 and complaints >= 1):
        return "B"
    return None


def fine_due(confirmed_on: date) -> date:
    return confirmed_on + timedelta(days=FINE_DUE_DAYS)


def r22_due(confirmed_on: date, today: date) -> bool:
    """A fine still unpaid two days after it fell due proposes R22."""
    return today >= fine_due(confirmed_on) + timedelta(days=FINE_GRACE_DAYS)


# === stored entries ===========================================================================

BELOW_MANAGER = (TELLER, LOBBY)


def rule_of(code: str) -> Rule:
    """The catalogue rule ``code`` with the amounts the service office set, if any."""
    base = RULES.get(code)
    if base is None:
        raise DomainError(_l("没有扣分/奖励条款 %(code)s。", code=code), "rule_code")
    amounts = db.session.get(LedgerRuleAmounts, code)
    if amounts is None:
        return base
    return replace(base, points=(amounts.points_low, amounts.points_high),
                   money=(amounts.money_low, amounts.money_high))


def _event(entry: LedgerEntry, action: str, actor: Person | None, now: datetime, **details):
    db.session.add(LedgerEvent(entry_id=entry.id, action=action, at=now,
                               actor_id=actor.id if actor else None,
                               details=json.dumps(details, ensure_ascii=False, default=str)
                               if details else ""))


def record(person: Person, code: str, day: date, now: datetime, points: Decimal | None = None,
           money: Decimal | None = None, responsibility: bool = False, reason: str = "",
           evidence: tuple[str, str] = ("text", ""), actor: Person | None = None) -> LedgerEntry:
    """A proposed entry (待确认) under ``code``; points and money are the base values (before
    any doubling), the rule's mildest when not given, refused outside the rule's range."""
    rule = rule_of(code)
    default_points, default_money = default_amounts(rule)
    points = default_points if points is None else Decimal(points)
    money = default_money if money is None else Decimal(money)
    if not rule.recorder_sets and not in_range(points, rule.points):
        raise DomainError(_l("%(code)s 的分值应在 %(low)s 到 %(high)s 之间。", code=code,
                             low=min(rule.points), high=max(rule.points)), "points")
    if not rule.recorder_sets and not in_range(money, rule.money):
        raise DomainError(_l("%(code)s 的金额应在 %(low)s 到 %(high)s 元之间。", code=code,
                             low=min(rule.money), high=max(rule.money)), "money")
    if rule.recorder_sets and (points > 0 or money < 0):
        raise DomainError(_l("扣分须为负数,罚款不能为负。"), "points")
    entry = LedgerEntry(person=person, org_unit_id=person.org_unit_id, rule_code=code, day=day,
                        base_points=points, base_money=money, points=points, money=money,
                        responsibility=responsibility, reason=reason.strip(),
                        evidence_kind=evidence[0], evidence_ref=evidence[1], status=PROPOSED,
                        recorded_by_id=actor.id if actor else None, recorded_at=now)
    db.session.add(entry)
    db.session.flush()
    _event(entry, "record", actor, now, rule=code, points=points, money=money)
    return entry


def _confirmed(query_filter) -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.status == CONFIRMED, *query_filter)))


def confirm(entry: LedgerEntry, actor: Person | None, now: datetime) -> None:
    """已生效: apply repeat doubling, charge the outlet manager, check the day's pile-up."""
    if entry.status != PROPOSED:
        raise DomainError(_l("只有待确认的记录可以确认。"))
    rule = rule_of(entry.rule_code)
    earlier = [e.day for e in _confirmed((
        LedgerEntry.person_id == entry.person_id, LedgerEntry.rule_code == entry.rule_code,
        LedgerEntry.id != entry.id, LedgerEntry.day <= entry.day,
        LedgerEntry.day >= entry.day - timedelta(days=REPEAT_DAYS)))]
    repeat = rule.is_deduction and is_repeat(entry.day, earlier)
    entry.points, entry.money = doubled(entry.base_points, entry.base_money, repeat)
    entry.doubled = repeat
    entry.status, entry.confirmed_at = CONFIRMED, now
    entry.confirmed_by_id = actor.id if actor else None
    _event(entry, "confirm", actor, now, doubled=repeat, points=entry.points, money=entry.money)
    audit("ledger.confirmed", entry, actor=actor, rule=entry.rule_code,
          person=entry.person.work_no, points=entry.points)
    manager = outlet_manager_of(entry.person)
    if manager is None or entry.person.role not in BELOW_MANAGER:
        return
    charge = manager_charge(rule, entry.points, entry.money, entry.responsibility)
    if charge is not None:
        _charge(manager, entry, charge, ("entry", str(entry.id)), actor, now)
    if rule.pileup:
        _pileup(entry, rule.pileup, manager, actor, now)


def outlet_manager_of(person: Person) -> Person | None:
    return db.session.scalar(select(Person).where(
        Person.org_unit_id == person.org_unit_id, Person.role == MANAGER, Person.active)
        .order_by(Person.work_no).limit(1))


def _charge(manager: Person, source: LedgerEntry | None, amounts, evidence, actor, now,
            day: date | None = None) -> LedgerEntry:
    """A confirmed 管理连带 (MGR) entry for the outlet manager, never doubled itself."""
    points, money = amounts
    charge = LedgerEntry(person=manager, org_unit_id=manager.org_unit_id, rule_code=MGR,
                         day=day or source.day, base_points=points, base_money=money,
                         points=points, money=money, parent=source, status=CONFIRMED,
                         evidence_kind=evidence[0], evidence_ref=evidence[1],
                         reason=f"管理连带:{source.rule_code} {source.person.name}" if source
                         else "管理连带:同日多人次", recorded_at=now, confirmed_at=now,
                         recorded_by_id=actor.id if actor else None,
                         confirmed_by_id=actor.id if actor else None)
    db.session.add(charge)
    db.session.flush()
    _event(charge, "charge", actor, now, source=source.id if source else None)
    return charge


def _pileup(entry: LedgerEntry, group: str, manager: Person, actor, now) -> None:
    """Three or more person-times of a pile-up group in one outlet on one day: once more."""
    codes = [code for code, rule in RULES.items() if rule.pileup == group]
    count = db.session.scalar(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.status == CONFIRMED, LedgerEntry.org_unit_id == entry.org_unit_id,
        LedgerEntry.day == entry.day, LedgerEntry.rule_code.in_(codes)))
    ref = f"{entry.org_unit_id}:{entry.day.isoformat()}:{group}"
    already = db.session.scalar(select(LedgerEntry.id).where(
        LedgerEntry.evidence_kind == "pileup", LedgerEntry.evidence_ref == ref,
        LedgerEntry.status == CONFIRMED))
    if already is None and count >= PILEUP_AT:
        _charge(manager, None, PILEUP_CHARGE, ("pileup", ref), actor, now, day=entry.day)


def revoke(entry: LedgerEntry, actor: Person | None, reason: str, now: datetime) -> None:
    """已撤销, with a reason; the manager charges coming from it are revoked with it."""
    if entry.status == REVOKED:
        raise DomainError(_l("该记录已撤销。"))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("请填写撤销原因。"), "reason")
    for item in [entry] + list(db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.parent_id == entry.id, LedgerEntry.status != REVOKED))):
        item.status, item.revoked_at, item.revoke_reason = REVOKED, now, reason
        item.revoked_by_id = actor.id if actor else None
        _event(item, "revoke", actor, now, reason=reason)
    audit("ledger.revoked", entry, actor=actor, rule=entry.rule_code, reason=reason)


# --- balances and standing ---------------------------------------------------------------------

def _year_span(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


_ENTRY, _TRAINING = LedgerEntry.__table__.c, Training.__table__.c
_BALANCE = select(func.coalesce(func.sum(_ENTRY.points), 0)).where(
    _ENTRY.person_id == bindparam("person"), _ENTRY.status == CONFIRMED,
    _ENTRY.day.between(bindparam("start"), bindparam("end")))
_LAST_TRAINING = select(func.max(_TRAINING.passed_on)).where(
    _TRAINING.person_id == bindparam("person"))
_OWN_DEDUCTION_DAYS = select(_ENTRY.day).where(
    _ENTRY.person_id == bindparam("person"), _ENTRY.status == CONFIRMED, _ENTRY.rule_code != MGR,
    _ENTRY.points < 0, _ENTRY.day > bindparam("after"), _ENTRY.day <= bindparam("today"))


def balance(person: Person, year: int, until: date | None = None) -> Decimal:
    """12 points at the start of the year (or on joining) plus every confirmed entry since."""
    start, end = _year_span(year)
    total = read(_BALANCE, person=person.id, start=start,
                 end=min(end, until) if until else end).scalar()
    return BASE_POINTS + Decimal(str(total))


def in_warning(person: Person, today: date, balance_now: Decimal | None = None) -> bool:
    """戒勉谈话/下岗培训: balance ≤ 0, or three own deductions within 30 days, since the last
    training passed. ``balance_now`` is the balance on ``today`` where the caller has it."""
    trained = read(_LAST_TRAINING, person=person.id).scalar()
    own = list(read(_OWN_DEDUCTION_DAYS, person=person.id, after=trained or date.min,
                    today=today).scalars())
    if three_within(own) is not None:
        return True
    if (balance(person, today.year, today) if balance_now is None else balance_now) > 0:
        return False
    return trained is None or _last_dropped_to_zero(person, today) > trained


def _last_dropped_to_zero(person: Person, today: date) -> date:
    running, dropped = BASE_POINTS, date(today.year, 1, 1)
    for day, points in db.session.execute(
            select(LedgerEntry.day, LedgerEntry.points).where(
                LedgerEntry.person_id == person.id, LedgerEntry.status == CONFIRMED,
                LedgerEntry.day.between(date(today.year, 1, 1), today))
            .order_by(LedgerEntry.day, LedgerEntry.id)):
        before, running = running, running + points
        if before > 0 >= running:
            dropped = day
    return dropped


def record_training(person: Person, passed_on: date, note: str, actor: Person | None,
                    now: datetime) -> Training:
    training = Training(person_id=person.id, passed_on=passed_on, note=(note or "").strip(),
                        recorded_by_id=actor.id if actor else None, recorded_at=now)
    db.session.add(training)
    db.session.flush()
    audit("ledger.training", training, actor=actor, in_unit=person.org_unit,
          person=person.work_no, passed_on=passed_on)
    return training


def counts(person: Person, year: int) -> tuple[int, int]:
    """Confirmed entries under deduction rules and under award rules (manager charges left out)."""
    start, end = _year_span(year)
    rows = db.session.execute(select(LedgerEntry.rule_code, func.count()).where(
        LedgerEntry.person_id == person.id, LedgerEntry.status == CONFIRMED,
        LedgerEntry.rule_code != MGR, LedgerEntry.day.between(start, end))
        .group_by(LedgerEntry.rule_code)).all()
    deductions = sum(n for code, n in rows if RULES[code].kind != AWARD)
    awards = sum(n for code, n in rows if RULES[code].kind == AWARD)
    return deductions, awards


def fines_check(today: date, now: datetime) -> int:
    """Propose R22 for every confirmed fine still unpaid two days after it fell due (once)."""
    proposed = 0
    for entry in _confirmed((LedgerEntry.money > 0, LedgerEntry.fine_paid_on.is_(None),
                             LedgerEntry.points < 0)):
        if not r22_due(local_today(entry.confirmed_at), today):
            continue
        ref = str(entry.id)
        if db.session.scalar(select(LedgerEntry.id).where(
                LedgerEntry.rule_code == "R22", LedgerEntry.evidence_kind == "fine",
                LedgerEntry.evidence_ref == ref)):
            continue
        record(entry.person, "R22", today, now, reason=f"罚款逾期两日未交(记录 {entry.id})",
               evidence=("fine", ref))
        proposed += 1
    return proposed


def standing(person: Person, year: int, today: date) -> dict:
    """The year's standing as the HR and performance systems read it (CONTRACT.md)."""
    from ..complaints.services import upheld_counts
    from ...periods import year as calendar_year

    until = min(today, date(year, 12, 31))
    points = balance(person, year)
    complaints = upheld_counts([person.id], calendar_year(year)).get(person.id, 0)
    deductions, awards = counts(person, year)
    return {"work_no": person.work_no, "name": person.name, "outlet": person.org_unit.code,
            "year": year, "points": float(points), "deductions": deductions, "awards": awards,
            "complaints_upheld": complaints, "grade_cap": grade_cap(points, complaints),
            "warning": in_warning(person, until)}


# --- what the pages need: whole outlets in a fixed number of queries, proposals, amounts ---------

def catalogue() -> list[Rule]:
    """Every rule of the catalogue with the amounts the service office set (one query)."""
    overrides = {row.code: row for row in db.session.scalars(select(LedgerRuleAmounts))}
    return [replace(rule, points=(row.points_low, row.points_high),
                    money=(row.money_low, row.money_high)) if (row := overrides.get(rule.code))
            else rule for rule in CATALOGUE]


def balances(person_ids: list[int], year: int, until: date | None = None) -> dict[int, Decimal]:
    """``balance`` of many people in one grouped query."""
    start, end = _year_span(year)
    totals = dict(db.session.execute(
        select(LedgerEntry.person_id, func.sum(LedgerEntry.points)).where(
            LedgerEntry.person_id.in_(person_ids), LedgerEntry.status == CONFIRMED,
            LedgerEntry.day.between(start, min(end, until) if until else end))
        .group_by(LedgerEntry.person_id)).tuples().all()) if person_ids else {}
    return {pid: BASE_POINTS + one_decimal(Decimal(str(totals.get(pid) or 0)))
            for pid in person_ids}


def tallies(person_ids: list[int], year: int) -> dict[int, dict[str, int]]:
    """Per person: the year's confirmed deductions and awards (as ``counts``) and the entries
    still waiting for confirmation, in one grouped query."""
    start, end = _year_span(year)
    found = {pid: {"deductions": 0, "awards": 0, "pending": 0} for pid in person_ids}
    if not person_ids:
        return found
    for pid, code, status, n in db.session.execute(
            select(LedgerEntry.person_id, LedgerEntry.rule_code, LedgerEntry.status, func.count())
            .where(LedgerEntry.person_id.in_(person_ids), LedgerEntry.rule_code != MGR,
                   LedgerEntry.status.in_((CONFIRMED, PROPOSED)),
                   LedgerEntry.day.between(start, end))
            .group_by(LedgerEntry.person_id, LedgerEntry.rule_code, LedgerEntry.status)):
        rule = RULES.get(code)
        kind = "pending" if status == PROPOSED else (
            "awards" if rule is not None and rule.kind == AWARD else "deductions")
        found[pid][kind] += n
    return found


def last_drop(entries: list[tuple[date, Decimal]], start: date) -> date:
    """The last day the running balance (from 12 on ``start``) fell from above 0 to 0 or below."""
    running, dropped = BASE_POINTS, start
    for day, points in entries:
        before, running = running, running + points
        if before > 0 >= running:
            dropped = day
    return dropped


def warnings(person_ids: list[int], today: date) -> set[int]:
    """The people among ``person_ids`` in the warning state on ``today`` (as ``in_warning``),
    in a fixed number of queries."""
    if not person_ids:
        return set()
    trained = dict(db.session.execute(
        select(Training.person_id, func.max(Training.passed_on))
        .where(Training.person_id.in_(person_ids)).group_by(Training.person_id)).tuples().all())
    own: dict[int, list[date]] = {pid: [] for pid in person_ids}
    for pid, day in db.session.execute(select(LedgerEntry.person_id, LedgerEntry.day).where(
            LedgerEntry.person_id.in_(person_ids), LedgerEntry.status == CONFIRMED,
            LedgerEntry.rule_code != MGR, LedgerEntry.points < 0, LedgerEntry.day <= today)):
        if pid not in trained or day > trained[pid]:
            own[pid].append(day)
    found = {pid for pid, days in own.items() if three_within(days) is not None}
    now_balances = balances(person_ids, today.year, today)
    low = [pid for pid in person_ids if pid not in found and now_balances[pid] <= 0]
    if not low:
        return found
    start = date(today.year, 1, 1)
    runs: dict[int, list[tuple[date, Decimal]]] = {pid: [] for pid in low}
    for pid, day, points in db.session.execute(
            select(LedgerEntry.person_id, LedgerEntry.day, LedgerEntry.points).where(
                LedgerEntry.person_id.in_(low), LedgerEntry.status == CONFIRMED,
                LedgerEntry.day.between(start, today))
            .order_by(LedgerEntry.person_id, LedgerEntry.day, LedgerEntry.id)):
        runs[pid].append((day, Decimal(str(points))))
    return found | {pid for pid in low
                    if pid not in trained or last_drop(runs[pid], start) > trained[pid]}


STALE = _l("该记录刚被其他人修改,请刷新页面后重试。")


check_version = partial(concurrency.check_version, stale=STALE)  # (entry, seen version)
guarded = partial(concurrency.guarded, STALE)


def confirm_proposal(proposal: PointsProposal, actor: Person, now: datetime) -> LedgerEntry:
    """A proposal from another feature becomes a confirmed entry: its rule and base amounts,
    dated the local day it was made, with its evidence; refused outside the rule's range."""
    if proposal.status != PROPOSAL_OPEN:
        raise DomainError(_l("该建议已处理。"))
    entry = record(proposal.person, proposal.rule_code, local_today(proposal.created_at), now,
                   points=proposal.points, money=proposal.money, reason=proposal.reason,
                   evidence=(proposal.evidence_kind, proposal.evidence_ref), actor=actor)
    confirm(entry, actor, now)
    proposal.status, proposal.decided_by_id, proposal.decided_at = PROPOSAL_CONFIRMED, actor.id, now
    audit("proposal.confirmed", proposal, actor=actor, entry=entry.id, rule=proposal.rule_code,
          person=proposal.person.work_no)
    return entry


def dismiss_proposal(proposal: PointsProposal, actor: Person, note: str, now: datetime) -> None:
    """驳回 a proposal, with a note; it never becomes an entry."""
    if proposal.status != PROPOSAL_OPEN:
        raise DomainError(_l("该建议已处理。"))
    note = (note or "").strip()
    if not note:
        raise DomainError(_l("请填写驳回理由。"), "note")
    proposal.status, proposal.decided_by_id, proposal.decided_at = PROPOSAL_DISMISSED, actor.id, now
    proposal.decision_note = note
    audit("proposal.dismissed", proposal, actor=actor, rule=proposal.rule_code,
          person=proposal.person.work_no, note=note)


def amounts_problems(rule: Rule, points: tuple[Decimal, Decimal],
                     money: tuple[Decimal, Decimal]) -> dict[str, str]:
    """What is wrong with new amounts for ``rule``, by field: ranges keep the rule's sign and
    run from low to high (a value that is None is left to the form to name)."""
    problems = {}
    sign_ok = (lambda v: v < 0) if rule.is_deduction else (lambda v: v > 0)
    for field, value in (("points_low", points[0]), ("points_high", points[1])):
        if value is not None and not sign_ok(value):
            problems[field] = str(_l("扣分条款的分值须为负数。") if rule.is_deduction
                                  else _l("奖励条款的分值须为正数。"))
    for field, value in (("money_low", money[0]), ("money_high", money[1])):
        if value is not None and value < 0:
            problems[field] = str(_l("金额不能为负数。"))
    for name, (low, high) in (("points_high", points), ("money_high", money)):
        if name not in problems and None not in (low, high) and low > high:
            problems[name] = str(_l("上限不能小于下限。"))
    return problems


def set_amounts(code: str, points: tuple[Decimal, Decimal], money: tuple[Decimal, Decimal],
                actor: Person, now: datetime) -> LedgerRuleAmounts:
    """The service office's amounts for ``code`` (codes and titles never change), audited."""
    rule = RULES.get(code)
    if rule is None or rule.recorder_sets:
        raise DomainError(_l("该条款的金额不能修改。"))
    problems = amounts_problems(rule, points, money)
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field)
    row = db.session.get(LedgerRuleAmounts, code)
    before = rule_of(code)
    if row is None:
        row = LedgerRuleAmounts(code=code)
        db.session.add(row)
    row.points_low, row.points_high = (one_decimal(value) for value in points)
    row.money_low, row.money_high = (cents(value) for value in money)
    row.changed_by_id, row.changed_at = actor.id, now
    audit("ledger.rule_amounts", None, actor=actor, in_unit=actor.org_unit, code=code,
          before=[before.points, before.money], after=[points, money])
    return row
