"""Two months of demo checklist sheets for both demo outlets, made through the real actions.

Sheets are opened, problems marked, sheets signed and problems put right through ``services``
with explicit moments (the lobby manager ticks from about 08:05 local time, the outlet manager
signs by about 08:40), so the history, the problem ledger and the deductions that named
problems proposed are what the portal itself would have produced; only the plain 合格 and
不适用 ticks are written in bulk, exactly as ``services.mark`` writes them.

Most days are signed with all 20 items, mostly 合格 with a few 不适用; every few days an item
fails, sometimes naming a teller; most problems are put right the next day, a couple are left
open and overdue; a few days were only partly done and a few were missed. Today's sheet of
ZJK-001 is left open, partly ticked.
"""
import json
import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import bindparam, insert, select, update

from ...extensions import db
from ...models import LOBBY, MANAGER, TELLER, OrgUnit, Person
from ...timeutil import LOCAL_TZ, local_today, utcnow
from . import services
from .models import ITEMS, NA, PASS, PROBLEM, UNCHECKED, ChecklistEvent, ChecklistMark

HISTORY_DAYS = 60
# item number -> (how often it fails, relative; what was found; whom it may name)
PROBLEMS = {
    1: (3, ("营业厅地面有水渍,未及时清理。", "玻璃门上手印明显。"), None),
    3: (1, ("电子屏仍在播放已过期的理财产品宣传。",), None),
    5: (3, ("老花镜缺失,填单台笔架无笔。", "饮水机无水,纸杯用完。"), None),
    7: (2, ("2号自助设备故障,未放置暂停服务提示牌。",), None),
    8: (2, ("窗口评价器未亮。",), TELLER),
    9: (2, ("柜员未佩戴工号牌。",), TELLER),
    11: (2, ("晨会迟到。",), TELLER),
    12: (5, ("柜台上放有私人物品和杂物。", "办公用具摆放凌乱。"), TELLER),
    14: (4, ("柜台玻璃有污渍。", "键盘、桌面有灰尘。"), TELLER),
    17: (2, ("营业时间在柜台内玩手机。",), TELLER),
    18: (1, ("大堂经理离岗,客户无人引导。",), LOBBY),
}
NA_ITEMS = (7, 13)  # e.g. the self-service machines switched off for maintenance
RECTIFY_NOTES = ("已当场整改。", "已清理完毕。", "已补齐。", "已批评教育,当事人已改正。",
                 "已报修,设备恢复正常。")


class _Outlet:
    """One demo outlet and the people who tick, sign and can be named."""

    def __init__(self, outlet: OrgUnit, people: list[Person]):
        self.unit = outlet
        self.lobby = next(p for p in people if p.role == LOBBY)
        self.manager = next(p for p in people if p.role == MANAGER)
        self.tellers = [p for p in people if p.role == TELLER]


def _at(day: date, hour: int, minute: int) -> datetime:
    """A local moment of ``day`` as stored (naive UTC)."""
    local = datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _problem(rng: random.Random, outlet: _Outlet, number: int) -> services.Problem:
    _, notes, names = PROBLEMS[number]
    people = []
    if names == TELLER and rng.random() < 0.6:
        people = [rng.choice(outlet.tellers)]
    elif names == LOBBY and rng.random() < 0.6:
        people = [outlet.lobby]
    return services.Problem(note=rng.choice(notes), people=people, deadline=None)


def _day_plan(rng: random.Random) -> dict[int, str]:
    """The state of each item on a full day: mostly 合格, now and then 不适用 or 不合格."""
    states = {number: PASS for number in range(1, ITEMS + 1)}
    if rng.random() < 0.12:
        states[rng.choice(NA_ITEMS)] = NA
    if rng.random() < 0.3:
        numbers, weights = zip(*((n, w) for n, (w, _, _) in PROBLEMS.items()))
        for number in set(rng.choices(numbers, weights, k=1 + (rng.random() < 0.2))):
            states[number] = PROBLEM
    return states


MARKED = (update(ChecklistMark.__table__)
          .where(ChecklistMark.__table__.c.id == bindparam("mark_id"))
          .values(state=bindparam("new_state"), marked_by_id=bindparam("actor"),
                  marked_at=bindparam("at")))


def _write(sheet, pending: list, actor: Person) -> None:
    """合格 and 不适用 marks as ``services.mark`` writes them (the mark and its "mark" event),
    in two statements instead of a locked re-read per item."""
    if not pending:
        return
    db.session.execute(MARKED, [{"mark_id": item.id, "new_state": state, "actor": actor.id,
                                 "at": when} for item, state, when in pending])
    db.session.execute(insert(ChecklistEvent.__table__), [
        {"sheet_id": sheet.id, "number": item.number, "action": "mark", "actor_id": actor.id,
         "at": when, "details": json.dumps({"state": state, "before": UNCHECKED, "people": []})}
        for item, state, when in pending])
    pending.clear()


def _tick(rng: random.Random, outlet: _Outlet, day: date, states: dict[int, str],
          start: datetime) -> tuple[object, datetime, list]:
    """Open the day's sheet and set ``states`` in item order, one item every minute or so;
    problems go through ``services.mark`` (note, people, deadline, proposal)."""
    sheet = services.open_sheet(outlet.unit, day, outlet.lobby, start)
    marks = {item.number: item for item in sheet.marks}
    now, problems, pending = start, [], []
    for number, state in states.items():
        now += timedelta(seconds=rng.randrange(30, 75))
        if state != PROBLEM:
            pending.append((marks[number], state, now))
            continue
        _write(sheet, pending, outlet.lobby)
        problems.append(services.mark(sheet, number, state, outlet.lobby, now,
                                      problem=_problem(rng, outlet, number)))
    _write(sheet, pending, outlet.lobby)
    return sheet, now, problems


def _history(rng: random.Random, outlet: _Outlet, today: date) -> list:
    """HISTORY_DAYS days up to yesterday; the problems raised, oldest first."""
    missed = set(rng.sample(range(2, HISTORY_DAYS), 3))
    partial = set(rng.sample(sorted(set(range(2, HISTORY_DAYS)) - missed), 3))
    problems = []
    for offset in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=offset)
        if offset in missed:
            continue
        start = _at(day, 8, rng.randrange(5, 12))
        if offset in partial:
            count = rng.randrange(6, 16)
            _tick(rng, outlet, day, {n: PASS for n in range(1, count + 1)}, start)
            continue
        sheet, now, raised = _tick(rng, outlet, day, _day_plan(rng), start)
        services.sign(sheet, outlet.manager, now + timedelta(minutes=rng.randrange(1, 4)))
        problems += raised
    return problems


def _rectify(rng: random.Random, outlet: _Outlet, problems: list, today: date,
             keep_open: int) -> None:
    """Put right, the next morning, every problem old enough but ``keep_open`` of them."""
    old = [item for item in problems if item.sheet.day <= today - timedelta(days=2)]
    left = set(rng.sample(range(len(old)), min(keep_open, len(old))))
    for index, item in enumerate(old):
        if index in left:
            continue
        when = _at(item.sheet.day + timedelta(days=1), 9, rng.randrange(10, 59))
        actor = outlet.lobby if rng.random() < 0.7 else outlet.manager
        services.rectify(item, actor, rng.choice(RECTIFY_NOTES), when)


def _today(rng: random.Random, outlet: _Outlet, today: date, now: datetime) -> None:
    """Today's sheet, open and partly ticked (never after ``now``)."""
    midnight = _at(today, 0, 0)
    start = max(min(_at(today, 8, 5), now - timedelta(minutes=20)), midnight)
    sheet = services.open_sheet(outlet.unit, today, outlet.lobby, start)
    for number in range(1, rng.randrange(6, 10)):
        start = min(start + timedelta(minutes=1), now)
        services.mark(sheet, number, PASS, outlet.lobby, start)


def seed_history(today: date) -> None:
    """Add two months of checklist sheets for ZJK-001 and ZJK-002 (no commit)."""
    rng = random.Random(2020)
    outlets = db.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(("ZJK-001", "ZJK-002")))
                                 .order_by(OrgUnit.code)).all()
    people = db.session.scalars(select(Person).where(Person.active.is_(True))
                                .order_by(Person.work_no)).all()
    now = utcnow() if today == local_today() else _at(today, 11, 0)
    for index, unit in enumerate(outlets):
        outlet = _Outlet(unit, [p for p in people if p.org_unit_id == unit.id])
        problems = _history(rng, outlet, today)
        _rectify(rng, outlet, problems, today, keep_open=2 - index)
        if index == 0:
            _today(rng, outlet, today, now)
    db.session.flush()
