"""The honours board (SPEC section 6).

Pure rules first (no app, plain values): the title catalogue, the period of each cadence, the
5-per-sub-branch cap of the yearly title, what counts as "current" on the board, the candidate
rankings and the day an award entry is dated. Then the stored honours: nominating, approving
(which creates the linked award entry through the ledger) and rejecting, and the board's reads,
each in a bounded number of queries.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import partial

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from ... import concurrency
from ...audit import record as audit
from ...errors import Conflict, DomainError
from ...extensions import db
from ...models import LOBBY, MANAGER, TELLER, OrgUnit, Person
from ...periods import BadPeriod, Period, month, month_of, quarter, quarter_of, year
from ...proposals import CONFIRMED as PROPOSAL_CONFIRMED
from ...proposals import PROPOSED as PROPOSAL_OPEN
from ...proposals import PointsProposal
from ...timeutil import local_today, to_local
from .models import APPROVED, PROPOSED, REJECTED, Honour, HonourEvent

MONTHLY, YEARLY, DAILY, QUARTERLY = "month", "year", "day", "quarter"
YEARLY_CAP = 5  # 年度文优服务标兵: at most 5 per sub-branch per year
CITATION_MAX = 500
NOTE_MAX = 500
FIVE_STARS = 5
QUARTERLY_STAR = "quarterly_five_star"
NOMINEE_ROLES = (TELLER, LOBBY)
OLDEST_YEARS = 1  # nominations for this year or the year before
GRIEVANCE_DAYS = 31  # an A06 proposal this close to a 委屈奖's day is the same deed


@dataclass(frozen=True)
class Title:
    """A title of the board: its cadence and the award rule an approval records, if any."""

    code: str
    name: str
    cadence: str
    rule: str | None = None
    nominated: bool = True


#: the fixed catalogue of SPEC section 6 (names are what users know, not translated)
TITLES = (
    Title("monthly_star", "月度服务明星", MONTHLY, "A01"),
    Title("post_expert", "岗位能手", MONTHLY),
    Title("rising_star", "新锐标兵", MONTHLY),
    Title("grievance", "委屈奖", DAILY, "A06"),
    Title("yearly_model", "年度文优服务标兵", YEARLY),
    Title(QUARTERLY_STAR, "季度五星柜员", QUARTERLY, nominated=False),
)
TITLE_BY_CODE = {title.code: title for title in TITLES}
NOMINATED = tuple(title for title in TITLES if title.nominated)
PERIOD_HINTS = {MONTHLY: "YYYY-MM", YEARLY: "YYYY", DAILY: "YYYY-MM-DD"}

_YEAR = re.compile(r"^([0-9]{4})$")
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_QUARTER = re.compile(r"^([0-9]{4})Q([1-4])$")


def parse_period(cadence: str, text: str) -> Period:
    """The period of a title's cadence: month ``YYYY-MM``, year ``YYYY``, day ``YYYY-MM-DD`` or
    quarter ``YYYYQn``; BadPeriod for anything else (a year before 2000 included)."""
    text = (text or "").strip()
    pattern = {MONTHLY: _MONTH, YEARLY: _YEAR, DAILY: _DAY, QUARTERLY: _QUARTER}.get(cadence)
    found = pattern.match(text) if pattern else None
    if found is None or int(found[1]) < 2000:
        raise BadPeriod(text)
    number = int(found[1])
    try:
        if cadence == MONTHLY:
            return month(number, int(found[2]))
        if cadence == YEARLY:
            return year(number)
        if cadence == QUARTERLY:
            return quarter(number, int(found[2]))
        day = date(number, int(found[2]), int(found[3]))
    except ValueError:
        raise BadPeriod(text) from None
    return Period(day.isoformat(), day, day)


def parse_board_period(text: str) -> Period:
    """The board archive's ``?period=``: a month ``YYYY-MM`` or a year ``YYYY``."""
    text = (text or "").strip()
    return parse_period(YEARLY if _YEAR.match(text) else MONTHLY, text)


def period_problem(period: Period, today: date) -> str | None:
    """Why a nomination can't be for ``period``: not begun yet, or older than last year."""
    if period.start > today:
        return str(_l("该期间尚未开始,不能推荐。"))
    if period.end.year < today.year - OLDEST_YEARS:
        return str(_l("只能推荐今年或去年的荣誉。"))
    return None


def cap_reached(taken: int, cap: int = YEARLY_CAP) -> bool:
    """The sub-branch's yearly titles (approved or waiting) leave no room for one more."""
    return taken >= cap


def entry_day(period: Period, decided_on: date) -> date:
    """The day an approval's award entry is dated: the decision day, kept inside the period."""
    return min(max(decided_on, period.start), period.end)


def current_since(today: date) -> dict[str, date]:
    """Per cadence, the earliest period start the board still shows as current: the month
    before and this one, the year before and this one, the quarter before and this one."""
    last_month = month_of(today.replace(day=1) - timedelta(days=1))
    last_quarter = quarter_of(quarter_of(today).start - timedelta(days=1))
    return {MONTHLY: last_month.start, DAILY: last_month.start,
            YEARLY: date(today.year - 1, 1, 1), QUARTERLY: last_quarter.start}


def current_quarters(today: date) -> list[str]:
    """Labels of the quarters whose confirmed five stars are current: the last one and this."""
    this = quarter_of(today)
    last = quarter_of(this.start - timedelta(days=1))
    return [last.label, this.label]


@dataclass(frozen=True)
class MonthlyFacts:
    """A teller's month for the monthly-star ranking."""

    person_id: int
    work_no: str
    ratings: int
    stars: int
    upheld: int  # complaints upheld or partly upheld with the person responsible

    @property
    def average(self) -> Fraction | None:
        return Fraction(self.stars, self.ratings) if self.ratings else None


def rank_monthly(rows: list[MonthlyFacts]) -> list[MonthlyFacts]:
    """Best average stars first, then more ratings; people with an upheld complaint out; people
    without ratings last; ties by work number."""
    eligible = [row for row in rows if row.upheld == 0]
    return sorted(eligible, key=lambda r: (r.average is None, -(r.average or 0), -r.ratings,
                                           r.work_no))


@dataclass(frozen=True)
class YearlyFacts:
    """A person's year for the yearly-model ranking."""

    person_id: int
    work_no: str
    balance: Decimal
    stars: int  # approved monthly service stars in the year


def rank_yearly(rows: list[YearlyFacts]) -> list[YearlyFacts]:
    """Highest points balance first, then more monthly stars; ties by work number."""
    return sorted(rows, key=lambda r: (-r.balance, -r.stars, r.work_no))


# === the board's items ==========================================================================

@dataclass(frozen=True)
class BoardItem:
    """One title on the board, as the board, the hall screen and the monthly notice show it."""

    title: str  # Chinese title name
    name: str
    work_no: str
    outlet: str  # outlet name
    citation: str
    period: str  # 2026-10 / 2026Q3 / 2026 / 2026-10-12
    person_id: int
    title_code: str = ""
    outlet_code: str = ""
    has_photo: bool = False
    honour_id: int | None = None


def _item(honour: Honour, outlet: OrgUnit) -> BoardItem:
    title, person = TITLE_BY_CODE[honour.title], honour.person
    return BoardItem(title.name, person.name, person.work_no, outlet.name, honour.citation,
                     honour.period, person.id, title.code, outlet.code, bool(person.photo),
                     honour.id)


def _star_item(person: Person, label: str) -> BoardItem:
    unit = person.org_unit
    citation = f"{label} 星级评定 ★★★★★"
    return BoardItem(TITLE_BY_CODE[QUARTERLY_STAR].name, person.name, person.work_no, unit.name,
                     citation, label, person.id, QUARTERLY_STAR, unit.code, bool(person.photo))


TITLE_ORDER = {title.code: n for n, title in enumerate(TITLES)}


def _sorted(items: list[BoardItem]) -> list[BoardItem]:
    return sorted(items, key=lambda i: (TITLE_ORDER[i.title_code], _neg_period(i.period),
                                        i.outlet_code, i.work_no))


def _neg_period(label: str) -> tuple:
    return tuple(-ord(c) for c in label)


def _under(unit: OrgUnit):
    return OrgUnit.path.startswith(unit.path, autoescape=True)


def _approved_in(units_filter, since: dict[str, date] | None = None,
                 period: Period | None = None) -> list[BoardItem]:
    """Approved honours of people in ``units_filter``, current ones or those of ``period``."""
    query = (select(Honour, OrgUnit).join(OrgUnit, OrgUnit.id == Honour.org_unit_id)
             .where(Honour.status == APPROVED, units_filter))
    if since is not None:
        by_cadence = [and_(Honour.title.in_([t.code for t in NOMINATED if t.cadence == cadence]),
                           Honour.period_start >= start)
                      for cadence, start in since.items() if cadence != QUARTERLY]
        query = query.where(or_(*by_cadence))
    if period is not None:
        query = query.where(Honour.period_start >= period.start, Honour.period_end <= period.end)
    return [_item(honour, unit) for honour, unit in db.session.execute(query)]


def _five_stars(units_filter, labels: list[str]) -> list[BoardItem]:
    """Confirmed five-star levels of ``labels`` (quarters) for people in ``units_filter``."""
    from ..ratings.models import StarLevel

    if not labels:
        return []
    rows = db.session.execute(
        select(StarLevel.quarter, Person).join(Person, Person.id == StarLevel.person_id)
        .join(OrgUnit, OrgUnit.id == Person.org_unit_id)
        .where(StarLevel.confirmed == FIVE_STARS, StarLevel.quarter.in_(labels), units_filter))
    return [_star_item(person, label) for label, person in rows]


def quarters_in(period: Period) -> list[str]:
    """Labels of the quarters that end inside ``period`` (a month: at most one)."""
    labels, day = [], period.start
    while day <= period.end:
        found = quarter_of(day)
        if period.start <= found.end <= period.end:
            labels.append(found.label)
        day = found.end + timedelta(days=1)
    return labels


def month_honours(outlet: OrgUnit, month: Period) -> list[BoardItem]:
    """Approved honours of the outlet's people for ``month``: its monthly titles, 委屈奖 dated in
    it, a yearly title of the year approved in it, and the 季度五星柜员 of a quarter ending in it
    (three queries)."""
    in_outlet = OrgUnit.id == outlet.id
    items = _approved_in(in_outlet, period=month)
    yearly = db.session.execute(
        select(Honour, OrgUnit).join(OrgUnit, OrgUnit.id == Honour.org_unit_id)
        .where(Honour.status == APPROVED, in_outlet, Honour.title == "yearly_model",
               Honour.decided_at.is_not(None),
               Honour.period == str(month.start.year))).all()
    items += [_item(h, unit) for h, unit in yearly
              if h.decided_at and to_local(h.decided_at).date() in month]
    items += _five_stars(in_outlet, quarters_in(month))
    return _sorted(items)


def board_unit(user: Person) -> OrgUnit:
    """Whose board a person sees: outlet staff their sub-branch's, the office its own subtree."""
    unit = user.org_unit
    if unit.kind == "outlet" and unit.parent is not None:
        return unit.parent
    return unit


def current_board(unit: OrgUnit, today: date) -> list[BoardItem]:
    """The approved titles now current under ``unit`` (two queries)."""
    since = current_since(today)
    return _sorted(_approved_in(_under(unit), since=since)
                   + _five_stars(_under(unit), current_quarters(today)))


def archive(unit: OrgUnit, period: Period) -> list[BoardItem]:
    """The approved titles of a month or a year under ``unit`` (two queries)."""
    return _sorted(_approved_in(_under(unit), period=period)
                   + _five_stars(_under(unit), quarters_in(period)))


def shown_on_screen(person_id: int, today: date) -> bool:
    """The person is on some hall screen right now (so their photo may be served publicly)."""
    return any(item.person_id == person_id for item in _person_current(person_id, today))


def _person_current(person_id: int, today: date) -> list[BoardItem]:
    return (_approved_in(Honour.person_id == person_id, since=current_since(today))
            + _five_stars(Person.id == person_id, current_quarters(today)))


def on_board_of(person_id: int, unit: OrgUnit) -> bool:
    """The person holds an approved title or a confirmed five-star level under ``unit``."""
    from ..ratings.models import StarLevel

    person = db.session.get(Person, person_id)
    if person is None or not unit.contains(person.org_unit):
        return False
    honoured = db.session.scalar(select(Honour.id).where(
        Honour.person_id == person_id, Honour.status == APPROVED).limit(1))
    return honoured is not None or db.session.scalar(select(StarLevel.id).where(
        StarLevel.person_id == person_id, StarLevel.confirmed == FIVE_STARS).limit(1)) is not None


# === nominating, approving, rejecting ============================================================

STALE = _l("该推荐刚被其他人处理,请刷新页面后重试。")


def _event(honour: Honour, action: str, actor: Person | None, now: datetime, **details) -> None:
    db.session.add(HonourEvent(honour_id=honour.id, action=action, at=now,
                               actor_id=actor.id if actor else None,
                               details=json.dumps(details, ensure_ascii=False, default=str)
                               if details else ""))


def nominees(outlet: OrgUnit, manager: Person) -> list[Person]:
    """The people of ``outlet`` its manager may nominate: active tellers and lobby managers."""
    return list(db.session.scalars(select(Person).where(
        Person.org_unit_id == outlet.id, Person.active, Person.id != manager.id,
        Person.role.in_(NOMINEE_ROLES)).order_by(Person.work_no)))


def subbranch_of(outlet: OrgUnit) -> OrgUnit:
    return outlet.parent if outlet.parent is not None else outlet


def yearly_taken(subbranch: OrgUnit, label: str, statuses=(PROPOSED, APPROVED),
                 leave_out: int | None = None) -> int:
    """Yearly titles of ``label`` in the sub-branch's outlets, approved or waiting."""
    return db.session.scalar(
        select(func.count(Honour.id)).join(OrgUnit, OrgUnit.id == Honour.org_unit_id)
        .where(Honour.title == "yearly_model", Honour.period == label,
               Honour.status.in_(statuses), OrgUnit.parent_id == subbranch.id,
               *((Honour.id != leave_out,) if leave_out else ())))


def _grievance_proposal(person: Person, day: date) -> PointsProposal | None:
    """The person's A06 proposal from a complaint (open or already confirmed, within a month of
    ``day``) that no honour has taken up yet: the honour takes it up instead of a second award."""
    taken = select(Honour.proposal_id).where(Honour.proposal_id.is_not(None))
    moment = datetime.combine(day, time())
    return db.session.scalar(
        select(PointsProposal).where(
            PointsProposal.person_id == person.id, PointsProposal.rule_code == "A06",
            PointsProposal.status.in_((PROPOSAL_OPEN, PROPOSAL_CONFIRMED)),
            PointsProposal.id.not_in(taken),
            PointsProposal.created_at.between(moment - timedelta(days=GRIEVANCE_DAYS),
                                              moment + timedelta(days=GRIEVANCE_DAYS + 1)))
        .order_by(PointsProposal.created_at, PointsProposal.id).limit(1))


def nominate(manager: Person, person: Person, title_code: str, period_text: str, citation: str,
             now: datetime) -> Honour:
    """推荐: the outlet manager nominates a person of the outlet for a title and period."""
    title = TITLE_BY_CODE.get(title_code)
    if title is None or not title.nominated:
        raise DomainError(_l("请选择荣誉称号。"), "title")
    if person.org_unit_id != manager.org_unit_id or person.id == manager.id \
            or person.role not in NOMINEE_ROLES or not person.active:
        raise DomainError(_l("只能推荐本网点的在岗人员。"), "person")
    try:
        period = parse_period(title.cadence, period_text)
    except BadPeriod:
        raise DomainError(_l("请按 %(format)s 填写期间。", format=PERIOD_HINTS[title.cadence]),
                          "period") from None
    problem = period_problem(period, local_today(now))
    if problem:
        raise DomainError(problem, "period")
    citation = (citation or "").strip()
    if not citation:
        raise DomainError(_l("请填写事迹。"), "citation")
    if len(citation) > CITATION_MAX:
        raise DomainError(_l("不能超过 %(max)d 字。", max=CITATION_MAX), "citation")
    if db.session.scalar(select(Honour.id).where(Honour.person_id == person.id,
                                                 Honour.title == title.code,
                                                 Honour.period == period.label)):
        raise DomainError(_l("%(name)s 已被推荐过该期间的这一称号。", name=person.name), "person")
    outlet = person.org_unit
    if title.code == "yearly_model" and cap_reached(yearly_taken(subbranch_of(outlet),
                                                                 period.label)):
        raise DomainError(_l("本支行 %(year)s 年度文优服务标兵已满 %(cap)d 名(含待审批),不能再推荐。",
                             year=period.label, cap=YEARLY_CAP), "title")
    proposal = _grievance_proposal(person, period.start) if title.code == "grievance" else None
    honour = Honour(person=person, org_unit_id=outlet.id, title=title.code, period=period.label,
                    period_start=period.start, period_end=period.end, citation=citation,
                    status=PROPOSED, nominated_by_id=manager.id, nominated_at=now,
                    proposal_id=proposal.id if proposal else None)
    db.session.add(honour)
    db.session.flush()
    _event(honour, "nominate", manager, now, title=title.code, period=period.label,
           proposal=proposal.id if proposal else None)
    audit("honour.nominated", honour, actor=manager, person=person.work_no, title=title.code,
          period=period.label)
    return honour


check_version = partial(concurrency.check_version, stale=STALE)  # (honour, seen version)
guarded = partial(concurrency.guarded, STALE)


def _decidable(honour: Honour, actor: Person) -> None:
    if honour.status != PROPOSED:
        raise Conflict(_l("该推荐已审批,不能重复处理。"))
    if honour.person_id == actor.id:
        raise DomainError(_l("不能审批关于本人的推荐。"))


def _award(honour: Honour, actor: Person, now: datetime, points, money):
    """The confirmed award entry of an approval, or the one already made from the complaint's
    A06 proposal the honour took up (never a second award)."""
    from ..ledger import services as ledger
    from ..ledger.models import CONFIRMED, LedgerEntry

    title = TITLE_BY_CODE[honour.title]
    proposal = db.session.get(PointsProposal, honour.proposal_id) if honour.proposal_id else None
    if proposal is not None and proposal.status == PROPOSAL_CONFIRMED:
        existing = db.session.scalar(select(LedgerEntry).where(
            LedgerEntry.person_id == honour.person_id, LedgerEntry.rule_code == title.rule,
            LedgerEntry.evidence_kind == proposal.evidence_kind,
            LedgerEntry.evidence_ref == proposal.evidence_ref, LedgerEntry.status == CONFIRMED))
        if existing is not None:
            return existing
    period = Period(honour.period, honour.period_start, honour.period_end)
    reason = f"光荣榜 {title.name}({honour.period}):{honour.citation}"[:500]
    entry = ledger.record(honour.person, title.rule, entry_day(period, local_today(now)), now,
                          points=points, money=money, reason=reason,
                          evidence=("honour", str(honour.id)), actor=actor)
    ledger.confirm(entry, actor, now)
    if proposal is not None and proposal.status == PROPOSAL_OPEN:
        proposal.status, proposal.decided_by_id, proposal.decided_at = (
            PROPOSAL_CONFIRMED, actor.id, now)
        proposal.decision_note = f"由光荣榜委屈奖兑现(荣誉 {honour.id},积分记录 {entry.id})"
        audit("proposal.confirmed", proposal, actor=actor, entry=entry.id, honour=honour.id,
              rule=proposal.rule_code, person=honour.person.work_no)
    return entry


def approve(honour: Honour, actor: Person, now: datetime, note: str = "",
            points: Decimal | None = None, money: Decimal | None = None) -> Honour:
    """批准: the title is awarded; a title with an award rule records and confirms that entry
    (for 委屈奖 with the points and money the office chose within the rule's range)."""
    _decidable(honour, actor)
    title = TITLE_BY_CODE[honour.title]
    if title.code == "yearly_model" and cap_reached(yearly_taken(
            subbranch_of(honour.person.org_unit), honour.period, (APPROVED,))):
        raise DomainError(_l("本支行 %(year)s 年度文优服务标兵已满 %(cap)d 名。",
                             year=honour.period, cap=YEARLY_CAP))
    honour.status, honour.decided_by_id, honour.decided_at = APPROVED, actor.id, now
    honour.decision_note = (note or "").strip()
    db.session.flush()  # a concurrent decision fails here, before any entry is made
    if title.rule:
        entry = _award(honour, actor, now, points if title.rule == "A06" else None,
                       money if title.rule == "A06" else None)
        honour.ledger_entry_id, honour.points, honour.money = entry.id, entry.points, entry.money
    _event(honour, "approve", actor, now, note=honour.decision_note,
           entry=honour.ledger_entry_id, points=honour.points, money=honour.money)
    audit("honour.approved", honour, actor=actor, person=honour.person.work_no,
          title=honour.title, period=honour.period, entry=honour.ledger_entry_id)
    return honour


def reject(honour: Honour, actor: Person, note: str, now: datetime) -> Honour:
    """退回: not awarded, with a note; no entry is made."""
    _decidable(honour, actor)
    note = (note or "").strip()
    if not note:
        raise DomainError(_l("请填写不予批准的理由。"), "note")
    honour.status, honour.decided_by_id, honour.decided_at = REJECTED, actor.id, now
    honour.decision_note = note
    db.session.flush()
    _event(honour, "reject", actor, now, note=note)
    audit("honour.rejected", honour, actor=actor, person=honour.person.work_no,
          title=honour.title, period=honour.period, note=note)
    return honour


# === candidate suggestions ======================================================================

def monthly_candidates(outlet: OrgUnit, period: Period) -> list[tuple[Person, MonthlyFacts]]:
    """The outlet's tellers ranked for the monthly star (ratings' and complaints' measures)."""
    from ..complaints.services import upheld_counts
    from ..ratings.services import measures_for

    people = {p.id: p for p in db.session.scalars(select(Person).where(
        Person.org_unit_id == outlet.id, Person.active, Person.role == TELLER))}
    measures = measures_for(list(people), period) if people else {}
    upheld = upheld_counts(list(people), period) if people else {}
    facts = [MonthlyFacts(pid, p.work_no, measures[pid].ratings, measures[pid].stars,
                          upheld.get(pid, 0)) for pid, p in people.items()]
    return [(people[row.person_id], row) for row in rank_monthly(facts)]


def yearly_candidates(outlet: OrgUnit, label: int, today: date
                      ) -> list[tuple[Person, YearlyFacts]]:
    """The outlet's people ranked for the yearly model: balance, then approved monthly stars."""
    from ..ledger.services import balances

    people = {p.id: p for p in db.session.scalars(select(Person).where(
        Person.org_unit_id == outlet.id, Person.active, Person.role.in_(NOMINEE_ROLES)))}
    if not people:
        return []
    found = balances(list(people), label, min(today, date(label, 12, 31)))
    stars = dict(db.session.execute(
        select(Honour.person_id, func.count(Honour.id)).where(
            Honour.person_id.in_(list(people)), Honour.title == "monthly_star",
            Honour.status == APPROVED, Honour.period_start >= date(label, 1, 1),
            Honour.period_end <= date(label, 12, 31))
        .group_by(Honour.person_id)).tuples().all())
    facts = [YearlyFacts(pid, p.work_no, found[pid], stars.get(pid, 0))
             for pid, p in people.items()]
    return [(people[row.person_id], row) for row in rank_yearly(facts)]


def pending_count(user: Person) -> int:
    """Nominations waiting for a decision: the manager's outlet's, the office's subtree's."""
    query = select(func.count(Honour.id)).where(Honour.status == PROPOSED)
    if user.role == MANAGER:
        query = query.where(Honour.org_unit_id == user.org_unit_id)
    else:
        query = (query.join(OrgUnit, OrgUnit.id == Honour.org_unit_id)
                 .where(_under(user.org_unit), Honour.person_id != user.id))
    return db.session.scalar(query)


def history(honour: Honour) -> list[HonourEvent]:
    return list(db.session.scalars(select(HonourEvent).where(HonourEvent.honour_id == honour.id)
                                   .order_by(HonourEvent.id)))
