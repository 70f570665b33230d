"""Complaints under the first-contact responsibility rule (SPEC section 4).

The rules come first as pure functions (naive datetimes, no app, no database); the actions
on stored complaints follow, each checked against the complaint's state and version and
written with its history line in one transaction.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import partial

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ... import concurrency
from ...audit import record
from ...database import read
from ...errors import Conflict, DomainError
from ...extensions import db
from ...models import ADMIN, LOBBY, MANAGER, OFFICE, TELLER, OrgUnit, Person
from ...periods import Period
from ...proposals import PointsProposal
from ...timeutil import stored, to_local, utc_span
from .models import (CALLBACKS, CALLED_BACK, CLOSED, DECIDED, FINDINGS, HANDLING, NEW,
                     OPEN_STATUSES, BUCK_PASSING_TRANSFERS, Complaint, ComplaintEvent,
                     complaint_responsible)

RESPONSE_HOURS = 1  # first response within 1 business hour (1小时响应)
ACCEPT_HOURS = 1  # a transfer must be accepted within 1 business hour or it returns
DECISION_DAYS = 15  # a handling decision within 15 days …
EXTENDED_DECISION_DAYS = 30  # … extendable once, with a reason, to 30 (the regulator's limit)
DEFAULT_OPENS, DEFAULT_CLOSES = time(9), time(17)  # default business hours, every day

#: the deduction an upheld complaint proposes, by how far the customer took it (SPEC 5)
DEDUCTIONS = {
    "outlet": ("R19", Decimal("-2"), Decimal("200")),
    "branch": ("R19b", Decimal("-3"), Decimal("300")),
    "media": ("R19c", Decimal("-5"), Decimal("500")),
}
LATE_RULE = ("R11b", Decimal("-2"), Decimal("200"))  # 应办不办、推诿、拖延
GRIEVANCE_AWARD = ("A06", Decimal("1"), Decimal("50"))  # 委屈奖
UPHELD_FINDINGS = ("upheld", "partly")
SATISFIED_CALLBACKS = ("satisfied", "basic")


def add_business_time(start: datetime, hours: float, opens: time = DEFAULT_OPENS,
                      closes: time = DEFAULT_CLOSES) -> datetime:
    """The local moment ``hours`` of business time after ``start`` (business hours every day).

    Time outside business hours does not count: a complaint received at 16:30 with one hour
    to go is due at 09:30 the next day; one received at 20:00 or at 07:00 is due at 10:00.
    """
    if not opens < closes:
        raise ValueError("business hours must open before they close")
    left = timedelta(hours=hours)
    moment = start
    while True:
        day_open = datetime.combine(moment.date(), opens)
        day_close = datetime.combine(moment.date(), closes)
        if moment < day_open:
            moment = day_open
        elif moment >= day_close:
            moment = datetime.combine(moment.date() + timedelta(days=1), opens)
            continue
        if moment + left <= day_close:
            return moment + left
        left -= day_close - moment
        moment = datetime.combine(moment.date() + timedelta(days=1), opens)


def decision_due(received: datetime, extended: bool = False) -> datetime:
    """15 days after receipt, or 30 once extended."""
    return received + timedelta(days=EXTENDED_DECISION_DAYS if extended else DECISION_DAYS)


def is_late(due: datetime, done_at: datetime | None, now: datetime) -> bool:
    """Done after ``due``, or still not done once ``due`` has passed."""
    return (done_at or now) > due


def ticket_number(day: date, sequence: int) -> str:
    """The customer's ticket number: ``TS20261123-0007`` for the 7th complaint of the day."""
    return f"TS{day:%Y%m%d}-{sequence:04d}"


def phone_digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def phone_matches(phone: str, last_four: str) -> bool:
    """The look-up check: the last four digits of the phone given on the complaint."""
    digits = phone_digits(phone)
    return len(digits) >= 4 and len(last_four) == 4 and digits[-4:] == last_four


def deduction_for(level: str) -> tuple[str, Decimal, Decimal]:
    """(rule, points, fine) proposed for a person responsible for an upheld complaint."""
    return DEDUCTIONS[level]


def is_buck_passing(transfers: int) -> bool:
    """推诿风险: two or more transfers."""
    return transfers >= BUCK_PASSING_TRANSFERS


def level_of_channel(channel: str) -> str:
    """How far the customer took it, as far as the channel tells (referrals come from above)."""
    return {"referral": "branch", "media": "media"}.get(channel, "outlet")


# --- measures ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComplaintFacts:
    """What the measures need of one complaint."""

    response_due: datetime
    responded_at: datetime | None
    decision_due: datetime
    decided_at: datetime | None
    finding: str | None
    callback: str | None
    first_contact_resolved: bool  # decided by the first-contact owner without a transfer


@dataclass(frozen=True)
class OutletMeasures:
    complaints: int
    transactions: int
    response_on_time: int
    responses_due: int
    decision_on_time: int
    decisions_due: int
    first_contact_resolved: int
    decided: int
    upheld: int
    callbacks: int
    satisfied_callbacks: int

    @property
    def per_10k(self) -> Fraction | None:
        """万笔投诉量: complaints per 10,000 transactions."""
        return Fraction(self.complaints * 10000, self.transactions) if self.transactions else None

    @property
    def response_rate(self) -> Fraction | None:
        return _ratio(self.response_on_time, self.responses_due)

    @property
    def decision_rate(self) -> Fraction | None:
        return _ratio(self.decision_on_time, self.decisions_due)

    @property
    def first_contact_rate(self) -> Fraction | None:
        return _ratio(self.first_contact_resolved, self.decided)

    @property
    def upheld_rate(self) -> Fraction | None:
        return _ratio(self.upheld, self.decided)

    @property
    def satisfaction_rate(self) -> Fraction | None:
        return _ratio(self.satisfied_callbacks, self.callbacks)


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def measure(facts: list[ComplaintFacts], transactions: int, now: datetime) -> OutletMeasures:
    """The outlet's measures over the complaints received in a period.

    A clock counts once it has run out or the step was done: a response still inside its
    hour is neither on time nor late yet.
    """
    def counted(due, done):
        return done is not None or now > due

    responses = [f for f in facts if counted(f.response_due, f.responded_at)]
    decisions = [f for f in facts if counted(f.decision_due, f.decided_at)]
    decided = [f for f in facts if f.finding is not None]
    called = [f for f in facts if f.callback is not None]
    return OutletMeasures(
        complaints=len(facts), transactions=transactions,
        response_on_time=sum(not is_late(f.response_due, f.responded_at, now) for f in responses),
        responses_due=len(responses),
        decision_on_time=sum(not is_late(f.decision_due, f.decided_at, now) for f in decisions),
        decisions_due=len(decisions),
        first_contact_resolved=sum(f.first_contact_resolved for f in decided),
        decided=len(decided),
        upheld=sum(f.finding in UPHELD_FINDINGS for f in decided),
        callbacks=len(called),
        satisfied_callbacks=sum(f.callback in SATISFIED_CALLBACKS for f in called),
    )


# === stored complaints ========================================================================

DESCRIPTION_MAX = 2000
#: load the people a complaint list shows in one query per relation, not one per row
WITH_PEOPLE = (selectinload(Complaint.first_owner), selectinload(Complaint.handler))
TEXT_MAX = 1000
STALE = _l("该投诉刚被他人处理,请查看最新状态后再操作。")


def local_naive(moment: datetime) -> datetime:
    """A stored (naive UTC) moment as naive local time."""
    return to_local(moment).replace(tzinfo=None)


def business_hours() -> tuple[time, time]:
    return current_app.config["COMPLAINT_BUSINESS_HOURS"]


def business_deadline(start: datetime, hours: float) -> datetime:
    """``hours`` of the outlet's business time after the stored moment ``start`` (stored)."""
    return stored(add_business_time(local_naive(start), hours, *business_hours()))


@dataclass
class NewComplaint:
    """What the form or the intake page collected."""

    channel: str
    outlet: OrgUnit
    category: str
    description: str
    customer_name: str = ""
    customer_phone: str = ""
    window_number: int | None = None
    subject: Person | None = None
    level: str | None = None
    source_rating_id: int | None = None


def first_contact_owner(outlet: OrgUnit) -> Person | None:
    """For the web form: the outlet's lobby manager, else its outlet manager (*default*)."""
    people = db.session.scalars(
        select(Person).where(Person.org_unit_id == outlet.id, Person.active,
                             Person.role.in_((LOBBY, MANAGER)))
        .order_by(Person.role != LOBBY, Person.work_no)
    ).all()
    return people[0] if people else None


def outlet_manager(outlet: OrgUnit) -> Person | None:
    return db.session.scalar(
        select(Person).where(Person.org_unit_id == outlet.id, Person.active,
                             Person.role == MANAGER).order_by(Person.work_no).limit(1))


def create(data: NewComplaint, recorder: Person | None, now: datetime) -> Complaint:
    """Record a complaint with its ticket number, first-contact owner and clocks."""
    owner = recorder or first_contact_owner(data.outlet)
    complaint = Complaint(
        channel=data.channel, outlet=data.outlet, category=data.category,
        description=data.description.strip()[:DESCRIPTION_MAX],
        customer_name=data.customer_name.strip(), customer_phone=data.customer_phone.strip(),
        window_number=data.window_number, subject=data.subject,
        level=data.level or level_of_channel(data.channel), received_at=now,
        recorded_by_id=recorder.id if recorder else None,
        first_owner=owner, handler=owner, status=NEW,
        response_due=business_deadline(now, RESPONSE_HOURS), decision_due=decision_due(now),
        source_rating_id=data.source_rating_id,
    )
    _assign_ticket(complaint, now)
    _event(complaint, "create", recorder, now, channel=data.channel,
           owner=owner.work_no if owner else None)
    record("complaint.created", complaint, actor=recorder, ticket=complaint.ticket,
           channel=complaint.channel, owner=owner.work_no if owner else None)
    return complaint


def from_rating(rating, manager: Person, now: datetime) -> Complaint:
    """A low rating turned into a complaint by the outlet manager (who owns it first)."""
    from ..ratings.models import Window

    stars = "★" * rating.stars + "☆" * (5 - rating.stars)
    text = rating.comment or "(客户未留言)"
    window = db.session.get(Window, rating.window_id) if rating.window_id else None
    return create(NewComplaint(
        channel="web", outlet=db.session.get(OrgUnit, rating.outlet_id), category="attitude",
        description=f"由 {to_local(rating.rated_at):%Y-%m-%d %H:%M} 的评价 {stars} 转入:{text}",
        window_number=window.number if window else None, subject=rating.person,
        source_rating_id=rating.id),
        recorder=manager, now=now)


def _assign_ticket(complaint: Complaint, now: datetime, attempts: int = 20) -> None:
    """Give the complaint the day's next ticket number; a number taken meanwhile is skipped."""
    day = local_naive(now).date()
    # the day's numbers as a range of the ticket index: a prefix (LIKE) cannot use it on a
    # PostgreSQL database whose collation is not "C"
    taken = db.session.scalar(select(func.max(Complaint.ticket)).where(
        Complaint.ticket.between(ticket_number(day, 0), ticket_number(day, 9999))))
    sequence = int(taken[-4:]) if taken else 0
    for _ in range(attempts):
        sequence += 1
        complaint.ticket = ticket_number(day, sequence)
        try:
            with db.session.begin_nested():
                db.session.add(complaint)
                db.session.flush()
            return
        except IntegrityError:  # taken meanwhile: the savepoint let go of the row, try the next
            continue
    raise Conflict(_l("投诉登记繁忙,请稍后重试。"))


def _event(complaint: Complaint, action: str, actor: Person | None, now: datetime,
           text: str = "", public: bool = False, **details) -> ComplaintEvent:
    event = ComplaintEvent(complaint=complaint, action=action, actor=actor, at=now,
                           text=text, public=public,
                           details=json.dumps(details, ensure_ascii=False, sort_keys=True)
                           if details else "")
    db.session.add(event)
    return event


# --- who sees and acts --------------------------------------------------------------------

def _scope_path(user: Person) -> str:
    return user.org_unit.path


def visible_to(user: Person):
    """SQL condition over Complaint (joined to its outlet) for what ``user`` may see."""
    if user.role in (MANAGER, OFFICE):
        return OrgUnit.path.startswith(_scope_path(user), autoescape=True)
    if user.role in (TELLER, LOBBY):
        return or_(Complaint.first_owner_id == user.id, Complaint.handler_id == user.id,
                   Complaint.transfer_to_id == user.id, Complaint.recorded_by_id == user.id)
    return false()


def can_view(user: Person, complaint: Complaint) -> bool:
    if user.role in (MANAGER, OFFICE):
        return user.org_unit.contains(complaint.outlet)
    if user.role in (TELLER, LOBBY):
        return user.id in (complaint.first_owner_id, complaint.handler_id,
                           complaint.transfer_to_id, complaint.recorded_by_id)
    return False


def can_handle(user: Person, complaint: Complaint) -> bool:
    """The current handler, the outlet's manager and the service office above may act."""
    if user.role in (MANAGER, OFFICE) and user.org_unit.contains(complaint.outlet):
        return True
    return user.id == complaint.handler_id


def can_note(user: Person, complaint: Complaint) -> bool:
    """The first-contact owner stays accountable, so may add notes after handing over."""
    return can_handle(user, complaint) or user.id == complaint.first_owner_id


def transfer_targets(complaint: Complaint) -> list[Person]:
    """Who may receive the complaint: the outlet's staff and the service office above it."""
    office_units = [unit.id for unit in _ancestors(complaint.outlet)]
    return list(db.session.scalars(
        select(Person).where(Person.active, or_(
            and_(Person.org_unit_id == complaint.outlet_id,
                 Person.role.in_((TELLER, LOBBY, MANAGER))),
            and_(Person.org_unit_id.in_(office_units), Person.role == OFFICE),
        )).where(Person.id != complaint.handler_id).order_by(Person.role, Person.work_no)
    ))


def _ancestors(unit: OrgUnit) -> list[OrgUnit]:
    """The unit and the units above it (its materialised path names their codes)."""
    codes = [code for code in unit.path.strip("/").split("/") if code]
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes))))


def responsible_candidates(complaint: Complaint) -> list[Person]:
    """People who may be found responsible: the outlet's active staff."""
    return responsible_candidates_of(complaint.outlet)


def responsible_candidates_of(outlet: OrgUnit) -> list[Person]:
    return list(db.session.scalars(
        select(Person).where(Person.org_unit_id == outlet.id, Person.active,
                             Person.role != ADMIN).order_by(Person.work_no)))


# --- state of the clocks -------------------------------------------------------------------

def transfer_expired(complaint: Complaint, now: datetime) -> bool:
    return complaint.transfer_to_id is not None and now > complaint.transfer_due


def response_late(complaint: Complaint, now: datetime) -> bool:
    return is_late(complaint.response_due, complaint.responded_at, now)


def decision_late(complaint: Complaint, now: datetime) -> bool:
    return is_late(complaint.decision_due, complaint.decided_at, now)


def remaining(complaint: Complaint, now: datetime) -> tuple[str, timedelta] | None:
    """The clock now running ("response" or "decision") and the time left (negative: overdue)."""
    if complaint.status == NEW:
        return "response", complaint.response_due - now
    if complaint.status == HANDLING:
        return "decision", complaint.decision_due - now
    return None


# --- actions -------------------------------------------------------------------------------

check_version = partial(concurrency.check_version, stale=STALE)  # (complaint, seen version)
guarded = partial(concurrency.guarded, STALE)


def _require(condition: bool, message: str, field: str | None = None) -> None:
    if not condition:
        raise DomainError(message, field)


def _text(text: str, field: str = "text", required: bool = True) -> str:
    text = (text or "").strip()
    _require(bool(text) or not required, _l("请填写内容。"), field)
    _require(len(text) <= TEXT_MAX, _l("内容不能超过 %(max)d 字。", max=TEXT_MAX), field)
    return text


def respond(complaint: Complaint, actor: Person, text: str, now: datetime) -> None:
    """1小时响应: the customer was contacted; 待响应 → 处理中."""
    _require(complaint.status == NEW, _l("该投诉已响应过。"))
    text = _text(text)
    settle(complaint, now)
    complaint.status, complaint.responded_at = HANDLING, now
    _event(complaint, "respond", actor, now, text, late=response_late(complaint, now))
    if response_late(complaint, now):
        _propose_late(complaint, "response", now)
    record("complaint.responded", complaint, actor=actor, ticket=complaint.ticket)


def add_note(complaint: Complaint, actor: Person, text: str, public: bool, now: datetime) -> None:
    """An internal note, or a public reply the customer sees in the status look-up."""
    _require(complaint.status != CLOSED, _l("投诉已关闭,不能再添加记录。"))
    text = _text(text)
    _event(complaint, "reply" if public else "note", actor, now, text, public=public)
    record("complaint.replied" if public else "complaint.noted", complaint, actor=actor,
           ticket=complaint.ticket)


def transfer(complaint: Complaint, actor: Person, receiver: Person | None, reason: str,
             now: datetime) -> None:
    """转办: hand the complaint to another employee, who must accept within one hour."""
    settle(complaint, now)
    _require(complaint.status in (NEW, HANDLING), _l("只有待响应或处理中的投诉可以转办。"))
    _require(complaint.transfer_to_id is None, _l("该投诉正在等待接收,不能再次转办。"))
    _require(receiver is not None and receiver in transfer_targets(complaint),
             _l("请选择本网点或上级文优办的在岗人员。"), "receiver")
    reason = _text(reason, "reason")
    complaint.transfers += 1
    complaint.transfer_from_id = complaint.handler_id
    complaint.transfer_to, complaint.transfer_to_id = receiver, receiver.id
    complaint.transfer_due = business_deadline(now, ACCEPT_HOURS)
    _event(complaint, "transfer", actor, now, reason, to=receiver.work_no,
           count=complaint.transfers)
    record("complaint.transferred", complaint, actor=actor, ticket=complaint.ticket,
           to=receiver.work_no, transfers=complaint.transfers)


def accept(complaint: Complaint, actor: Person, now: datetime) -> None:
    """The receiver takes the complaint over."""
    _require(complaint.transfer_to_id == actor.id, _l("没有等待您接收的转办。"))
    if transfer_expired(complaint, now):
        settle(complaint, now)
        raise DomainError(_l("接收时限已过,投诉已退回转出人。"))
    complaint.handler, complaint.handler_id = actor, actor.id
    complaint.transfer_to, complaint.transfer_to_id = None, None
    complaint.transfer_from_id, complaint.transfer_due = None, None
    _event(complaint, "accept", actor, now)
    record("complaint.accepted", complaint, actor=actor, ticket=complaint.ticket)


def decline(complaint: Complaint, actor: Person, reason: str, now: datetime) -> None:
    """The receiver refuses the hand-over; the complaint goes back to the sender."""
    _require(complaint.transfer_to_id == actor.id, _l("没有等待您接收的转办。"))
    reason = _text(reason, "reason")
    _return_transfer(complaint, actor, now, "decline", reason)


def _return_transfer(complaint, actor, now, action, text="") -> None:
    sender = complaint.transfer_from_id
    complaint.transfer_to, complaint.transfer_to_id = None, None
    complaint.transfer_from_id, complaint.transfer_due = None, None
    _event(complaint, action, actor, now, text, back_to=sender)
    record(f"complaint.transfer_{action}", complaint, actor=actor, ticket=complaint.ticket)


def extend(complaint: Complaint, actor: Person, reason: str, now: datetime) -> None:
    """Extend the decision limit once, with a reason, to 30 days after receipt."""
    _require(complaint.status in (NEW, HANDLING), _l("只有未办结的投诉可以延期。"))
    _require(not complaint.extended, _l("处理时限只能延长一次。"))
    _require(now <= complaint.decision_due, _l("处理时限已过,不能再延期。"))
    complaint.extension_reason = _text(reason, "reason")
    complaint.decision_due = decision_due(complaint.received_at, extended=True)
    _event(complaint, "extend", actor, now, complaint.extension_reason)
    record("complaint.extended", complaint, actor=actor, ticket=complaint.ticket)


def decide(complaint: Complaint, actor: Person, finding: str, responsible: list[Person],
           reply: str, now: datetime) -> None:
    """已办结: the finding, the people found responsible and the reply to the customer."""
    _require(complaint.status == HANDLING,
             _l("请先记录首次响应。") if complaint.status == NEW else _l("该投诉不在处理中。"))
    _require(finding in FINDINGS, _l("请选择调查结论。"), "finding")
    candidates = {person.id for person in responsible_candidates(complaint)}
    _require(all(person.id in candidates for person in responsible), _l("责任人须为本网点人员。"),
             "responsible")
    _require(finding == "not_upheld" or bool(responsible), _l("属实或部分属实须写明责任人。"),
             "responsible")
    reply = _text(reply, "reply")
    settle(complaint, now)
    complaint.finding, complaint.decided_at, complaint.decided_by = finding, now, actor
    complaint.responsible = list(responsible) if finding in UPHELD_FINDINGS else []
    complaint.status = DECIDED
    late = decision_late(complaint, now)
    _event(complaint, "decide", actor, now, reply, public=True, finding=finding, late=late,
           responsible=[p.work_no for p in complaint.responsible])
    if finding in UPHELD_FINDINGS:
        rule, points, money = deduction_for(complaint.level)
        for person in complaint.responsible:
            _propose(person, rule, points, money, f"投诉 {complaint.ticket} 经查"
                     f"{'属实' if finding == 'upheld' else '部分属实'}", complaint, "", now)
    if late:
        _propose_late(complaint, "decision", now)
    record("complaint.decided", complaint, actor=actor, ticket=complaint.ticket,
           finding=finding, responsible=[p.work_no for p in complaint.responsible])


def nominate_grievance(complaint: Complaint, actor: Person, person: Person, citation: str,
                       now: datetime) -> PointsProposal:
    """委屈奖: after 不属实, propose A06 for an employee who stayed patient."""
    _require(complaint.finding == "not_upheld", _l("只有经查不属实的投诉可以推荐委屈奖。"))
    _require(person.id in {p.id for p in responsible_candidates(complaint)},
             _l("请选择本网点人员。"), "person")
    citation = _text(citation, "citation")
    rule, points, money = GRIEVANCE_AWARD
    proposal = _propose(person, rule, points, money, citation, complaint, "", now)
    _require(proposal is not None, _l("该员工已因此投诉被推荐过委屈奖。"), "person")
    _event(complaint, "nominate", actor, now, citation, person=person.work_no)
    return proposal


def call_back(complaint: Complaint, actor: Person, result: str, text: str,
              now: datetime) -> None:
    """已回访: the customer's satisfaction; 不满意 re-opens the complaint."""
    _require(complaint.status == DECIDED, _l("只有已办结的投诉可以回访。"))
    _require(result in CALLBACKS, _l("请选择回访结果。"), "result")
    text = _text(text, "text", required=False)
    complaint.callback, complaint.callback_at = result, now
    _event(complaint, "callback", actor, now, text, result=result)
    record("complaint.called_back", complaint, actor=actor, ticket=complaint.ticket,
           result=result)
    if result in SATISFIED_CALLBACKS:
        complaint.status = CALLED_BACK
        return
    complaint.status, complaint.reopened = HANDLING, complaint.reopened + 1
    complaint.finding, complaint.decided_at, complaint.decided_by = None, None, None
    complaint.responsible = []
    _event(complaint, "reopen", actor, now)
    record("complaint.reopened", complaint, actor=actor, ticket=complaint.ticket)


def close(complaint: Complaint, actor: Person, now: datetime) -> None:
    """Close after the callback (or after the decision when the customer left no phone)."""
    _require(complaint.status == CALLED_BACK
             or (complaint.status == DECIDED and complaint.anonymous),
             _l("请先完成回访再关闭。"))
    complaint.status, complaint.closed_at = CLOSED, now
    _event(complaint, "close", actor, now)
    record("complaint.closed", complaint, actor=actor, ticket=complaint.ticket)


# --- clocks that ran out -------------------------------------------------------------------

def settle(complaint: Complaint, now: datetime) -> bool:
    """Apply what the clocks decided: a transfer not accepted in time returns to the sender;
    a late response is escalated to the outlet manager and a late decision to the service
    office, each proposing R11b for the first-contact owner once. True when anything changed.
    """
    changed = False
    if transfer_expired(complaint, now):
        _return_transfer(complaint, None, complaint.transfer_due, "return")
        changed = True
    if not complaint.response_escalated and complaint.responded_at is None \
            and complaint.status == NEW and now > complaint.response_due:
        complaint.response_escalated = changed = True
        _event(complaint, "escalate_response", None, now)
        _propose_late(complaint, "response", now)
    if not complaint.decision_escalated and complaint.decided_at is None \
            and complaint.status in (NEW, HANDLING) and now > complaint.decision_due:
        complaint.decision_escalated = changed = True
        _event(complaint, "escalate_decision", None, now)
        _propose_late(complaint, "decision", now)
    return changed


def sweep(now: datetime) -> int:
    """Settle every open complaint whose clock ran out (run by ``complaints-sweep``)."""
    due = db.session.scalars(
        select(Complaint).where(Complaint.status.in_((NEW, HANDLING)), or_(
            Complaint.transfer_due < now,
            and_(~Complaint.response_escalated, Complaint.status == NEW,
                 Complaint.response_due < now),
            and_(~Complaint.decision_escalated, Complaint.decision_due < now),
        ))
    ).all()
    with guarded():
        settled = sum(settle(complaint, now) for complaint in due)
        db.session.commit()
    return settled


def _propose_late(complaint: Complaint, clock: str, now: datetime) -> None:
    owner = complaint.first_owner or complaint.handler
    if owner is None:
        return
    what = "首次响应超时" if clock == "response" else "处理超过时限"
    rule, points, money = LATE_RULE
    _propose(owner, rule, points, money, f"投诉 {complaint.ticket} {what}", complaint,
             f":{clock}", now)


def _propose(person: Person, rule: str, points: Decimal, money: Decimal, reason: str,
             complaint: Complaint, suffix: str, now: datetime) -> PointsProposal | None:
    """A proposal for the points ledger, once per person, rule and complaint (clock)."""
    ref = f"{complaint.ticket}{suffix}"
    if db.session.scalar(select(PointsProposal.id).where(
            PointsProposal.person_id == person.id, PointsProposal.rule_code == rule,
            PointsProposal.evidence_kind == "complaint", PointsProposal.evidence_ref == ref)):
        return None
    proposal = PointsProposal(person_id=person.id, org_unit_id=person.org_unit_id,
                              rule_code=rule, points=points, money=money, reason=reason,
                              evidence_kind="complaint", evidence_ref=ref, created_at=now)
    db.session.add(proposal)
    db.session.flush()
    record("proposal.created", proposal, in_unit=person.org_unit, rule=rule,
           person=person.work_no, complaint=complaint.ticket)
    return proposal


# --- look-ups ------------------------------------------------------------------------------

def by_ticket(ticket: str, last_four: str) -> Complaint | None:
    """The customer's look-up: the ticket and the last four digits of the phone must match."""
    complaint = db.session.scalar(select(Complaint).where(Complaint.ticket == ticket.strip().upper()))
    if complaint is None or not phone_matches(complaint.customer_phone, last_four.strip()):
        return None
    return complaint


def history(complaint: Complaint, public_only: bool = False) -> list[ComplaintEvent]:
    query = select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)
    if public_only:
        query = query.where(ComplaintEvent.public)
    return list(db.session.scalars(query.order_by(ComplaintEvent.id)))


# --- measures ------------------------------------------------------------------------------

def outlet_measures(outlets: list[OrgUnit], period: Period, now: datetime) -> dict[int, OutletMeasures]:
    """Each outlet's measures over the complaints received in ``period`` (two queries)."""
    from ..ratings.models import DailyTransactions

    ids = [outlet.id for outlet in outlets]
    start, end = utc_span(period.start, period.end)
    facts: dict[int, list[ComplaintFacts]] = {i: [] for i in ids}
    for row in db.session.execute(
        select(Complaint.outlet_id, Complaint.response_due, Complaint.responded_at,
               Complaint.decision_due, Complaint.decided_at, Complaint.finding,
               Complaint.callback, Complaint.transfers, Complaint.decided_by_id,
               Complaint.first_owner_id, Complaint.historical)
        .where(Complaint.outlet_id.in_(ids), Complaint.received_at >= start,
               Complaint.received_at < end)
    ):
        resolved = row.historical or (row.transfers == 0 and row.decided_by_id is not None
                                      and row.decided_by_id == row.first_owner_id)
        facts[row.outlet_id].append(ComplaintFacts(
            row.response_due, row.responded_at, row.decision_due, row.decided_at, row.finding,
            row.callback, bool(resolved)))
    transactions = dict(db.session.execute(
        select(Person.org_unit_id, func.sum(DailyTransactions.count))
        .join(Person, Person.id == DailyTransactions.person_id)
        .where(Person.org_unit_id.in_(ids), DailyTransactions.day.between(period.start, period.end))
        .group_by(Person.org_unit_id)
    ).tuples().all())
    return {i: measure(facts[i], int(transactions.get(i) or 0), now) for i in ids}


_COMPLAINT = Complaint.__table__.c
_UPHELD_RECEIVED = (
    select(complaint_responsible.c.person_id, _COMPLAINT.received_at)
    .join(Complaint.__table__, _COMPLAINT.id == complaint_responsible.c.complaint_id)
    .where(complaint_responsible.c.person_id.in_(bindparam("ids", expanding=True)),
           _COMPLAINT.finding.in_(UPHELD_FINDINGS), _COMPLAINT.received_at >= bindparam("start"),
           _COMPLAINT.received_at < bindparam("end"))
)


def upheld_counts(person_ids: list[int], period: Period) -> dict[int, int]:
    """Complaints received in ``period`` upheld or partly upheld with each person responsible."""
    return upheld_counts_over(person_ids, [period])[period.label]


def upheld_counts_over(person_ids: list[int], periods: list[Period]) -> dict[str, dict[int, int]]:
    """``upheld_counts`` for each of ``periods`` (by label), in one query over their span."""
    found: dict[str, dict[int, int]] = {period.label: {} for period in periods}
    if not person_ids or not periods:
        return found
    start, end = utc_span(min(p.start for p in periods), max(p.end for p in periods))
    for pid, received_at in read(_UPHELD_RECEIVED, ids=list(person_ids), start=start, end=end):
        day = to_local(received_at).date()
        for period in periods:
            if day in period:
                found[period.label][pid] = found[period.label].get(pid, 0) + 1
    return found


def open_for(user: Person, now: datetime, limit: int = 20) -> list[Complaint]:
    """The open complaints on ``user``'s desk: those they own, handle or are asked to accept;
    for the outlet manager every one of the outlet; for the service office, besides its own,
    those of its branch whose decision is overdue (escalated to it)."""
    query = (select(Complaint).join(Complaint.outlet)
             .where(Complaint.status.in_(OPEN_STATUSES), visible_to(user)))
    if user.role == OFFICE:
        query = query.where(or_(
            Complaint.first_owner_id == user.id, Complaint.handler_id == user.id,
            Complaint.transfer_to_id == user.id,
            and_(Complaint.status.in_((NEW, HANDLING)), Complaint.decision_due < now)))
    return list(db.session.scalars(query.options(*WITH_PEOPLE)
                                   .order_by(Complaint.received_at).limit(limit)))


def exists_for_rating(rating_id: int) -> Complaint | None:
    return db.session.scalar(select(Complaint).where(Complaint.source_rating_id == rating_id))

