"""Six months of demo ratings history: duty, transactions, ratings, a few reviews and levels."""
import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from ...database import bulk_insert
from ...extensions import db
from ...models import MANAGER, TELLER, OrgUnit, Person
from ...periods import previous_month, quarter_of
from ...timeutil import LOCAL_TZ
from . import services
from .models import DailyTransactions, DutySession, Rating, RatingReview, Window

COMMENTS_GOOD = ("服务很热情,谢谢!", "办理很快,专业。", "耐心解答了我的问题。", "态度很好,点赞",
                 "帮老人填单很细心。", "讲解清楚,下次还来。")
COMMENTS_BAD = ("等了很久,窗口只开了两个。", "态度有点冷淡。", "推销理财产品太多了。")
# per teller: (evaluation rate, share of 5 stars, share of 4 stars, share of days window left closed)
PROFILES = ((0.97, 0.93, 0.065, 0.0), (0.92, 0.85, 0.13, 0.01), (0.88, 0.75, 0.2, 0.03),
            (0.80, 0.65, 0.28, 0.06), (0.95, 0.9, 0.09, 0.0), (0.86, 0.7, 0.25, 0.02))


def _utc(day: date, at: time) -> datetime:
    local = datetime.combine(day, at, tzinfo=LOCAL_TZ)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _stars(rng: random.Random, five: float, four: float) -> int:
    draw = rng.random()
    if draw < five:
        return 5
    if draw < five + four:
        return 4
    return rng.choice((3, 3, 2, 1))


def seed_history(today: date, days: int = 183) -> None:
    """Add about six months of rating history for every demo teller (no commit)."""
    rng = random.Random(2026)
    tellers = db.session.scalars(
        select(Person).where(Person.role == TELLER).order_by(Person.work_no)).all()
    windows = {(w.outlet_id, w.number): w for w in db.session.scalars(select(Window))}
    ratings, transactions = [], []
    for index, teller in enumerate(tellers):
        rate, five, four, closed = PROFILES[index % len(PROFILES)]
        number = int(teller.work_no[-1])
        window = windows[(teller.org_unit_id, number)]
        for offset in range(days, 0, -1):
            day = today - timedelta(days=offset)
            if day.weekday() == 6:
                continue  # closed on Sundays
            count = max(5, int(rng.gauss(34, 7)))
            transactions.append({"person_id": teller.id, "day": day, "count": count})
            if rng.random() < closed:
                continue
            db.session.add(DutySession(window_id=window.id, person_id=teller.id,
                                       opened_at=_utc(day, time(8, 55)),
                                       closed_at=_utc(day, time(17, 5)), local_date=day))
            for _ in range(sum(rng.random() < rate for _ in range(count))):
                stars = _stars(rng, five, four)
                comment = ""
                if rng.random() < 0.04:
                    comment = rng.choice(COMMENTS_GOOD if stars >= 4 else COMMENTS_BAD)
                at = time(9 + rng.randrange(8), rng.randrange(60), rng.randrange(60))
                ratings.append({
                    "person_id": teller.id, "outlet_id": teller.org_unit_id,
                    "window_id": window.id, "rated_at": _utc(day, at), "local_date": day,
                    "stars": stars, "tags": "态度热情" if stars == 5 and comment else "",
                    "comment": comment, "ticket_no": "", "channel": rng.choice(("qr", "device")),
                    "flagged": False,
                })
    bulk_insert(DailyTransactions.__table__, transactions)
    bulk_insert(Rating.__table__, ratings)
    db.session.flush()
    services.rebuild_rating_days(commit=False)
    _reviews_and_levels(today, tellers)


def _reviews_and_levels(today: date, tellers: list[Person]) -> None:
    """An appeal waiting at ZJK-001, last quarter's confirmed levels, last month's R15 check."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    first = tellers[3]
    low = db.session.scalar(
        select(Rating).where(Rating.person_id == first.id, Rating.stars == 1)
        .order_by(Rating.rated_at.desc()).limit(1))
    if low is not None:
        db.session.add(RatingReview(rating_id=low.id, action="appeal", actor_id=first.id,
                                    reason="该客户因排队时间长迁怒于柜员,办理过程无差错。"))
    last_quarter = quarter_of(quarter_of(today).start - timedelta(days=1))
    managers = {m.org_unit_id: m for m in db.session.scalars(
        select(Person).where(Person.role == MANAGER))}
    for teller in tellers:
        services.confirm_level(managers[teller.org_unit_id], teller, last_quarter, now,
                               commit=False)
    outlets = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "outlet")).all()
    services.monthly_check(list(outlets), previous_month(today), now, commit=False)
