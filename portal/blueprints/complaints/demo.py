"""Six months of demo complaints for both demo outlets, made through the real actions.

Every complaint goes through ``services`` with explicit moments, so its history, its clocks
and the points proposals it raised (R19 for upheld findings, R11b for late steps) are what
the portal itself would have produced. Most are closed; a few are open in each state.
"""
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import LOBBY, MANAGER, OFFICE, TELLER, OrgUnit, Person
from ...timeutil import local_today, stored, utcnow
from . import services
from .services import NewComplaint

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
DESCRIPTIONS = {
    "attitude": ("柜员办理业务时态度冷淡,问了两遍都不耐烦。", "询问理财产品时柜员爱答不理。",
                 "柜员说话语气很冲,让人很不舒服。"),
    "error": ("转账金额录错,又跑了一趟才更正。", "开卡时手机号登记错误,收不到短信。",
              "存折补登漏了两笔,柜员没有核对。"),
    "waiting": ("只开了两个窗口,排队等了一个多小时。", "叫号很慢,前面只有五个人却等了四十分钟。",
                "中午窗口全部暂停,没有任何提示。"),
    "fees": ("跨行转账被收了手续费,事先没有告知。", "账户管理费扣费不清楚,要求解释。",
             "短信通知费未经同意就开通了。"),
    "facilities": ("自助取款机吞卡,等了半天没人处理。", "大厅空调坏了,老人在里面等很难受。",
                   "填单台没有笔,老花镜也找不到。"),
    "other": ("门口停车位被占用,无法停车。", "营业时间公示与实际不符。",
              "宣传单上的利率与柜台说的不一样。"),
}
CATEGORY_WEIGHTS = (("attitude", 30), ("waiting", 25), ("error", 15), ("fees", 12),
                    ("facilities", 10), ("other", 8))
CHANNEL_WEIGHTS = (("walk_in", 35), ("web", 25), ("phone", 20), ("comment_book", 14),
                   ("referral", 5), ("media", 1))
RESPONSES = ("已电话联系客户,说明情况并致歉,正在核实。", "已当面向客户了解情况,承诺尽快答复。",
             "已联系客户,调取监控核实中。")
REPLIES = {
    "upheld": "经核实,投诉情况属实。我行已对相关人员进行批评教育并按规定处理,向您致歉。",
    "partly": "经核实,投诉部分属实。我行已对相关环节进行整改,感谢您的监督。",
    "not_upheld": "经调取监控和业务记录核实,工作人员按规定办理,未发现违规情况。感谢您的理解。",
}
CALLBACK_NOTES = {"satisfied": "客户对处理结果满意。", "basic": "客户表示基本认可。",
                  "unsatisfied": "客户对处理结果不满意,要求重新处理。"}
SWEEP_DELAY = timedelta(minutes=3)  # complaints-sweep runs every few minutes
HISTORY_DAYS = (183, 25)  # closed complaints were received between these many days ago


class _Outlet:
    """The people of one demo outlet, as the actions need them."""

    def __init__(self, outlet: OrgUnit, people: list[Person]):
        self.unit = outlet
        self.manager = next(p for p in people if p.role == MANAGER)
        self.lobby = next(p for p in people if p.role == LOBBY)
        self.tellers = [p for p in people if p.role == TELLER]


def _pick(rng: random.Random, weighted) -> str:
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def _local(day: date, hour: int, minute: int) -> datetime:
    return stored(datetime.combine(day, time(hour, minute)))


def _new(rng: random.Random, outlet: _Outlet, channel: str, category: str,
         anonymous: bool = False) -> tuple[NewComplaint, Person | None]:
    """What a customer told, and who recorded it (None for the web form)."""
    subject = rng.choice(outlet.tellers) if category in ("attitude", "error") else None
    data = NewComplaint(
        channel=channel, outlet=outlet.unit, category=category,
        description=rng.choice(DESCRIPTIONS[category]),
        customer_name="" if anonymous else rng.choice(SURNAMES) + rng.choice(("先生", "女士")),
        customer_phone="" if anonymous else f"13{rng.randrange(10**9):09d}",
        window_number=int(subject.work_no[-1]) if subject else None, subject=subject)
    if channel == "web":
        return data, None
    if channel in ("referral", "media"):
        return data, outlet.manager
    return data, outlet.lobby if rng.random() < 0.8 else outlet.manager


def _transfer(complaint, actor: Person, receiver: Person, reason: str, at: datetime) -> None:
    services.transfer(complaint, actor, receiver, reason, at)
    db.session.flush()  # each step is a request of its own: the next one sees it stored


def _accept(complaint, receiver: Person, at: datetime) -> None:
    services.accept(complaint, receiver, at)
    db.session.flush()


def _respond(rng: random.Random, complaint, actor: Person, at: datetime) -> None:
    if at > complaint.response_due:  # the sweep escalated it first
        services.settle(complaint, min(at, complaint.response_due + SWEEP_DELAY))
    services.respond(complaint, actor, rng.choice(RESPONSES), at)


def _decide(rng: random.Random, outlet: _Outlet, complaint, at: datetime,
            finding: str | None = None) -> None:
    if at > complaint.decision_due:  # the sweep escalated it first
        services.settle(complaint, min(at, complaint.decision_due + SWEEP_DELAY))
    finding = finding or rng.choices(("upheld", "partly", "not_upheld"), (30, 25, 45))[0]
    responsible = []
    if finding != "not_upheld":
        responsible = [complaint.subject or rng.choice(outlet.tellers)]
        if complaint.category == "waiting" and rng.random() < 0.3:
            responsible.append(outlet.lobby)
    decider = complaint.handler if rng.random() < 0.7 else outlet.manager
    services.decide(complaint, decider, finding, responsible, REPLIES[finding], at)


def _closed_complaint(rng: random.Random, outlet: _Outlet, received: datetime) -> None:
    """A complaint taken from receipt to closing, now and then late, handed over or re-opened."""
    channel = _pick(rng, CHANNEL_WEIGHTS)
    anonymous = channel == "comment_book" and rng.random() < 0.5
    data, recorder = _new(rng, outlet, channel, _pick(rng, CATEGORY_WEIGHTS), anonymous)
    complaint = services.create(data, recorder, received)
    owner = complaint.handler
    late = rng.random() < 0.06
    responded = received + timedelta(minutes=rng.randrange(150, 300) if late
                                     else rng.randrange(5, 50))
    _respond(rng, complaint, owner, responded)
    moment = responded
    if rng.random() < 0.15:  # handed over to a colleague, who accepted
        receiver = rng.choice([p for p in services.transfer_targets(complaint)
                               if p.role in (TELLER, MANAGER)])
        moment += timedelta(minutes=rng.randrange(20, 90))
        _transfer(complaint, owner, receiver, "该业务由其经办,转其跟进处理。", moment)
        moment += timedelta(minutes=rng.randrange(5, 40))
        _accept(complaint, receiver, moment)
    days = rng.randrange(16, 19) if rng.random() < 0.05 else rng.randrange(1, 12)
    decided_on = services.local_naive(received).date() + timedelta(days=days)
    _decide(rng, outlet, complaint, _local(decided_on, rng.randrange(10, 16), rng.randrange(60)))
    if anonymous:
        services.close(complaint, outlet.manager, complaint.decided_at + timedelta(minutes=30))
        return
    called = complaint.decided_at + timedelta(days=rng.randrange(1, 4))
    result = rng.choices(("satisfied", "basic", "unsatisfied"), (65, 25, 10))[0]
    services.call_back(complaint, outlet.lobby, result, CALLBACK_NOTES[result], called)
    if result == "unsatisfied":  # re-opened: looked at again and decided once more
        _decide(rng, outlet, complaint, called + timedelta(days=rng.randrange(2, 5)),
                finding=rng.choice(("upheld", "partly")))
        called = complaint.decided_at + timedelta(days=1)
        services.call_back(complaint, outlet.lobby, "basic", CALLBACK_NOTES["basic"], called)
    services.close(complaint, outlet.manager, called + timedelta(minutes=rng.randrange(10, 120)))


def _history(rng: random.Random, outlets: list[_Outlet], today: date) -> None:
    """3–6 complaints per outlet and month, taken through in the order they came in."""
    first, last = HISTORY_DAYS
    span = (first - last) // 6
    arrivals = []
    for outlet in outlets:
        for month in range(6):
            start = first - month * span
            for _ in range(rng.randrange(3, 7)):
                day = today - timedelta(days=rng.randrange(start - span + 1, start + 1))
                arrivals.append((_local(day, rng.randrange(9, 17), rng.randrange(60)), outlet))
    for received, outlet in sorted(arrivals, key=lambda arrival: arrival[0]):
        _closed_complaint(rng, outlet, received)


def _open_complaints(rng: random.Random, one: _Outlet, two: _Outlet, now: datetime) -> None:
    """Open complaints in every state, as they stand at ``now``."""
    today = services.local_naive(now).date()

    def ago(days: int, hour: int, minute: int = 0) -> datetime:  # in business hours
        return _local(today - timedelta(days=days), hour, minute)

    def make(outlet, channel, category, received):
        data, recorder = _new(rng, outlet, channel, category)
        complaint = services.create(data, recorder, received)
        _respond(rng, complaint, complaint.handler, received + timedelta(minutes=20))
        return complaint

    # 待响应, just received through the web form at ZJK-001
    data, _ = _new(rng, one, "web", "waiting")
    services.create(data, None, now - timedelta(minutes=15))
    # 处理中 at ZJK-001, answered in time
    handling = make(one, "walk_in", "fees", ago(3, 10, 40))
    services.add_note(handling, one.lobby, "已向客户解释收费依据,客户要求书面说明。", False,
                      ago(3, 14, 10))
    # handed over at ZJK-001 a moment ago, waiting for the receiver to accept
    waiting = make(one, "phone", "error", ago(2, 15, 5))
    _transfer(waiting, waiting.handler, waiting.subject, "差错由其经办,请其核实并联系客户。",
              now - timedelta(minutes=10))
    # 已办结 at ZJK-001, upheld yesterday, waiting for the callback
    decided = make(one, "walk_in", "attitude", ago(4, 9, 30))
    _decide(rng, one, decided, ago(1, 11, 20), finding="upheld")
    # 推诿风险 at ZJK-002: handed over twice
    passed = make(two, "walk_in", "waiting", ago(6, 10, 0))
    first, second = two.tellers[1], two.tellers[3]
    _transfer(passed, passed.handler, first, "等候时间问题请当班柜员说明。", ago(5, 9, 30))
    _accept(passed, first, ago(5, 9, 50))
    _transfer(passed, first, second, "当时不是我的窗口,转交当班柜员。", ago(4, 14, 0))
    _accept(passed, second, ago(4, 14, 30))
    # 处理中 at ZJK-002, decision limit extended once
    extended = make(two, "referral", "error", ago(12, 11, 0))
    services.extend(extended, two.manager, "需调取上级行系统流水核实,延长处理时限。",
                    ago(2, 16, 0))
    # 已回访 at ZJK-002, waiting to be closed
    called = make(two, "phone", "facilities", ago(5, 13, 15))
    _decide(rng, two, called, ago(2, 10, 0), finding="partly")
    services.call_back(called, two.lobby, "satisfied", CALLBACK_NOTES["satisfied"],
                       ago(1, 15, 0))
    # no response since yesterday at ZJK-002: escalated to the outlet manager by the sweep
    data, recorder = _new(rng, two, "phone", "attitude")
    overdue = services.create(data, recorder, ago(1, 10, 30))
    services.settle(overdue, overdue.response_due + SWEEP_DELAY)


def seed_history(today: date) -> None:
    """Add the demo complaints (no commit)."""
    rng = random.Random(4401)
    outlets = db.session.scalars(
        select(OrgUnit).where(OrgUnit.kind == "outlet").order_by(OrgUnit.code)).all()
    people = db.session.scalars(
        select(Person).where(Person.role != OFFICE).order_by(Person.work_no)).all()
    one, two = (_Outlet(o, [p for p in people if p.org_unit_id == o.id]) for o in outlets[:2])
    now = utcnow() if today == local_today() else _local(today, 11, 0)
    # The actions flush what the next one must see themselves (ticket numbers, proposals) and
    # the helpers above flush after a hand-over; skipping the flush before every look-up
    # lets the rest go out in batches, which keeps seeding quick.
    with db.session.no_autoflush:
        _history(rng, [one, two], today)
        _open_complaints(rng, one, two, now)
    db.session.flush()
