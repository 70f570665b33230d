"""CSV import of ledger entries (``import-ledger``), e.g. the paper ledger kept before the portal.

Every row is recorded and confirmed through ``services`` as if it had been entered on its
date (at 09:00 local time), in date order (file order within a day), so every rule of SPEC
section 5 applies exactly as in the portal: repeat doubling against the confirmed entries
before it (those already stored and those of the file), manager charges, the same-day
pile-up. ``points`` and ``money`` are the base values before any doubling; empty means the
rule's default. The whole file is checked first, without writing anything.

The fines of imported entries (and of the manager charges they bring) count as paid on the
entry's day: the file is history, an unpaid fine of it shows as an R22 row of the file
itself, and ``ledger-fines-check`` must not propose R22 for the whole of the past.
"""
import re
from datetime import date, datetime, time, timezone

from sqlalchemy import func, select, update

from ...extensions import db
from ...imports import Importer, RowProblem, local_date_or_time
from ...models import MANAGER, OUTLET_ROLES, Person
from ...timeutil import LOCAL_TZ, local_today
from . import services
from .models import CONFIRMED, LedgerEntry

LEDGER_COLUMNS = ("date", "work_no", "rule_code", "points", "money",
                  "management_responsibility", "note")
ENTERED_AT = time(9, 0)  # an imported row counts as entered and confirmed at 09:00 local time
NOTE_LIMIT = 500
EVIDENCE = ("text", "导入")
# ASCII digits only: \d also takes "－１" or "١٠٠", which Decimal reads as -1 and 100
POINTS = re.compile(r"^[+-]?[0-9]{1,3}(\.[0-9])?$")  # one decimal at most, as the ledger keeps them
MONEY = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,2})?$")  # yuan and fen, never negative
FLAGS = {"1": True, "0": False}


def _prepare(rows: list[dict]) -> dict:
    """Outlet staff by work number, the rules with the amounts in force, today (reads only)."""
    people = db.session.execute(
        select(Person.work_no, Person.id, Person.role).where(Person.role.in_(OUTLET_ROLES)))
    return {"people": {work_no.upper(): (pid, role) for work_no, pid, role in people},
            "rules": {code.upper(): services.rule_of(code) for code in services.RULES},
            "today": local_today()}


def _rule(text: str, rules: dict) -> services.Rule:
    if text.upper() == services.MGR:
        raise RowProblem("管理连带(MGR)由系统按规则生成,不能直接导入 "
                         "(MGR manager charges are never imported)")
    rule = rules.get(text.upper())  # r01a is R01a
    if rule is None:
        raise RowProblem(f"条款代码 {text!r} 不存在 (unknown rule_code)")
    return rule


def _bounds(values) -> str:
    low, high = sorted(values)
    return f"{low}" if low == high else f"{low} – {high}"


def _amounts(row: dict, rule: services.Rule) -> tuple:
    """Points and money as Decimals (None: the rule's default), inside the rule's ranges."""
    points = money = None
    if rule.recorder_sets and not (row["points"] and row["money"]):
        raise RowProblem(f"{rule.code} 的分值和金额由录入人确定,不能为空 "
                         f"(points and money must be given for {rule.code})")
    if text := row["points"]:
        if not POINTS.match(text):
            raise RowProblem(f"分值 {text!r} 应为至多一位小数的数 (bad points)")
        points = services.D(text)
        if rule.is_deduction and points > 0:
            raise RowProblem(f"{rule.code} 是扣分条款,分值应写为负数 (deductions are negative)")
        if not services.in_range(points, rule.points):
            raise RowProblem(f"{rule.code} 的分值应在 {_bounds(rule.points)} 之间 "
                             f"(points outside the rule's range)")
    if text := row["money"]:
        if not MONEY.match(text):
            raise RowProblem(f"金额 {text!r} 应为不小于 0、至多两位小数的数 (bad money)")
        money = services.D(text)
        if not services.in_range(money, rule.money):
            raise RowProblem(f"{rule.code} 的金额应在 {_bounds(rule.money)} 元之间 "
                             f"(money outside the rule's range)")
    return points, money


def _check(row: dict, context: dict) -> dict:
    day = local_date_or_time(row["date"], context["today"], "日期", "date", with_time=False)
    found = context["people"].get(row["work_no"].upper())
    if found is None:
        raise RowProblem(f"工号 {row['work_no']!r} 不存在或不是网点人员 (unknown work_no)")
    rule = _rule(row["rule_code"], context["rules"])
    if rule.kind == services.MANAGER_RULE and found[1] != MANAGER:
        raise RowProblem(f"{rule.code} 只扣网点负责人 (only for the outlet manager)")
    points, money = _amounts(row, rule)
    responsibility = FLAGS.get(row["management_responsibility"])
    if responsibility is None:
        raise RowProblem(f"管理责任 {row['management_responsibility']!r} 应为 1 或 0 "
                         f"(management_responsibility must be 1 or 0)")
    if len(row["note"]) > NOTE_LIMIT:
        raise RowProblem(f"备注超过 {NOTE_LIMIT} 字 (note too long)")
    return {"day": day, "person_id": found[0], "code": rule.code, "points": points,
            "money": money, "responsibility": responsibility, "note": row["note"]}


def entered_at(day: date) -> datetime:
    """09:00 local time of ``day``, as stored (naive UTC)."""
    local = datetime.combine(day, ENTERED_AT, tzinfo=LOCAL_TZ)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _apply(plans: list[dict]) -> None:
    if not plans:
        return
    people = {p.id: p for p in db.session.scalars(select(Person).where(
        Person.id.in_({plan["person_id"] for plan in plans})))}
    first = db.session.scalar(select(func.max(LedgerEntry.id))) or 0
    for plan in sorted(plans, key=lambda plan: plan["day"]):  # stable: file order within a day
        now = entered_at(plan["day"])
        entry = services.record(people[plan["person_id"]], plan["code"], plan["day"], now,
                                points=plan["points"], money=plan["money"],
                                responsibility=plan["responsibility"], reason=plan["note"],
                                evidence=EVIDENCE)
        services.confirm(entry, None, now)
    # the file is history: its fines (and those of the manager charges) were settled then
    db.session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.id > first, LedgerEntry.status == CONFIRMED, LedgerEntry.money > 0,
               LedgerEntry.points < 0, LedgerEntry.fine_paid_on.is_(None),
               LedgerEntry.recorded_by_id.is_(None), LedgerEntry.confirmed_by_id.is_(None))
        .values(fine_paid_on=LedgerEntry.day, version=LedgerEntry.version + 1)
        .execution_options(synchronize_session=False))


LEDGER_IMPORTER = Importer("ledger", LEDGER_COLUMNS, _check, _apply, _prepare)
