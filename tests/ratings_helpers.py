"""Test data for the ratings feature: ratings, transactions and duty, counted as services do.

Ratings are append-only and count in the measures through ``rating_day``; these helpers insert
rows and keep that table in step, as the import and the rating page do.
"""
from datetime import date, datetime, time, timezone

from sqlalchemy import select

from portal.blueprints.ratings import services
from portal.blueprints.ratings.models import DailyTransactions, DutySession, Rating, Window
from portal.database import dialect_insert
from portal.extensions import db
from portal.models import Person
from portal.timeutil import LOCAL_TZ


def _utc(day: date, at: time) -> datetime:
    local = datetime.combine(day, at, tzinfo=LOCAL_TZ)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def make_ratings(person: Person, stars: int, day: date, count: int, comment: str = "",
                 tags=(), channel: str = "device") -> list[Rating]:
    """Store ``count`` counted ratings of ``person`` with ``stars`` on the local ``day``."""
    ratings = [
        Rating(person_id=person.id, outlet_id=person.org_unit_id, rated_at=_utc(day, time(10, 0)),
               local_date=day, stars=stars, tags=",".join(tags), comment=comment,
               channel=channel)
        for _ in range(count)
    ]
    db.session.add_all(ratings)
    db.session.flush()
    services.count_into_days(ratings, +1)
    db.session.commit()
    return ratings


def make_rating(person: Person, stars: int, day: date, comment: str = "", tags=()) -> Rating:
    """Store one counted rating of ``person`` on the local ``day`` (through the QR channel)."""
    return make_ratings(person, stars, day, 1, comment=comment, tags=tags, channel="qr")[0]


def set_transactions(person: Person, day: date, count: int) -> None:
    """Record that ``person`` handled ``count`` transactions on ``day`` (replacing any count)."""
    insert = dialect_insert(DailyTransactions)
    db.session.execute(
        insert.on_conflict_do_update(index_elements=["person_id", "day"],
                                     set_={"count": insert.excluded.count}),
        [{"person_id": person.id, "day": day, "count": count}],
    )
    db.session.commit()


def evaluator_on(person: Person, day: date, number: int = 1) -> DutySession:
    """Record a closed duty session of ``person`` at window ``number`` on ``day`` (开机)."""
    window = db.session.scalar(select(Window).where(Window.outlet_id == person.org_unit_id,
                                                    Window.number == number))
    duty = DutySession(window_id=window.id, person_id=person.id, local_date=day,
                       opened_at=_utc(day, time(9, 0)), closed_at=_utc(day, time(17, 0)))
    db.session.add(duty)
    db.session.commit()
    return duty
