"""CSV imports of evaluator-device ratings and the queue system's daily transaction counts."""
from datetime import date, datetime

from sqlalchemy import select

from ...database import bulk_insert, dialect_insert
from ...extensions import db
from ...imports import Importer, RowProblem
from ...models import OUTLET_ROLES, Person
from ...timeutil import LOCAL_TZ, local_today
from .models import DailyTransactions, Rating
from .services import count_tuples_into_days

RATING_COLUMNS = ("rated_at", "work_no", "stars", "channel")
TRANSACTION_COLUMNS = ("date", "work_no", "transactions")
STARS = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
MAX_DAILY_TRANSACTIONS = 5000


def _people(rows: list[dict]) -> dict:
    """Outlet staff by work number: (id, outlet id)."""
    found = db.session.execute(
        select(Person.work_no, Person.id, Person.org_unit_id).where(Person.role.in_(OUTLET_ROLES))
    )
    return {"people": {work_no: (pid, outlet) for work_no, pid, outlet in found},
            "today": local_today()}


def _person(context: dict, work_no: str) -> tuple[int, int]:
    found = context["people"].get(work_no.upper())
    if found is None:
        raise RowProblem(f"工号 {work_no!r} 不存在或不是网点人员 (unknown work_no)")
    return found


def _rating_check(row: dict, context: dict) -> dict:
    text = row["rated_at"]
    try:
        if len(text) != 19 or text[10] != " ":
            raise ValueError
        local = datetime.fromisoformat(text)
        if local.year < 2000:
            raise ValueError
    except ValueError:
        raise RowProblem(f"评价时间 {text!r} 应为 YYYY-MM-DD HH:MM:SS (bad rated_at)") from None
    if local.date() > context["today"]:
        raise RowProblem(f"评价时间 {text} 在未来 (rated_at in the future)")
    stars = STARS.get(row["stars"])
    if stars is None:
        raise RowProblem(f"星级 {row['stars']!r} 应为 1–5 的整数 (stars must be 1-5)")
    if row["channel"] not in ("device", "qr"):
        raise RowProblem(f"渠道 {row['channel']!r} 应为 device 或 qr (bad channel)")
    person_id, outlet_id = _person(context, row["work_no"])
    utc = local - LOCAL_TZ.utcoffset(local)
    return (person_id, outlet_id, utc, local.date(), stars, "", "", "", row["channel"], False)


#: the columns of a planned rating, in the order ``_rating_check`` gives them (the table's,
#: so that the driver takes the tuples as they are)
PLANNED = ("person_id", "outlet_id", "rated_at", "local_date", "stars", "tags", "comment",
           "ticket_no", "channel", "flagged")


def _rating_apply(plans: list[tuple]) -> None:
    if not plans:
        return
    bulk_insert(Rating.__table__, plans, PLANNED)
    count_tuples_into_days(((p[0], p[1], p[3], p[4]) for p in plans), +1)


RATING_IMPORTER = Importer("ratings", RATING_COLUMNS, _rating_check, _rating_apply, _people)


def _transactions_check(row: dict, context: dict) -> tuple[int, date, int]:
    try:
        day = date.fromisoformat(row["date"])
        if len(row["date"]) != 10:
            raise ValueError
    except ValueError:
        raise RowProblem(f"日期 {row['date']!r} 应为 YYYY-MM-DD (bad date)") from None
    if day > context["today"]:
        raise RowProblem(f"日期 {row['date']} 在未来 (date in the future)")
    count = row["transactions"]
    if not (count.isascii() and count.isdigit()) or int(count) > MAX_DAILY_TRANSACTIONS:
        raise RowProblem(f"业务笔数 {count!r} 应为 0–{MAX_DAILY_TRANSACTIONS} 的整数 (bad transactions)")
    person_id, _ = _person(context, row["work_no"])
    return person_id, day, int(count)


def _transactions_apply(plans: list[tuple[int, date, int]]) -> None:
    latest = {(pid, day): count for pid, day, count in plans}  # a later row replaces an earlier
    if not latest:
        return
    insert = dialect_insert(DailyTransactions)
    db.session.execute(
        insert.on_conflict_do_update(index_elements=["person_id", "day"],
                                     set_={"count": insert.excluded.count}),
        [{"person_id": pid, "day": day, "count": count} for (pid, day), count in latest.items()],
    )


TRANSACTION_IMPORTER = Importer("transactions", TRANSACTION_COLUMNS, _transactions_check,
                                _transactions_apply, _people)
