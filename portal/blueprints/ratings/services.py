"""Star-rated evaluations: the rules as pure functions on plain values, then the database layer."""
import functools
import hashlib
import json
import re
import secrets
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, case, exists, extract, func, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from ...audit import record
from ...database import dialect_insert, read
from ...errors import Conflict, DomainError, TooMany
from ...extensions import db
from ...models import OrgUnit, Person
from ...periods import Period
from ...proposals import PointsProposal
from ...timeutil import local_today
from .models import (
    LOW_STARS, DailyTransactions, DutySession, Invitation, Rating, RatingDay, RatingReview,
    StarLevel, StarThreshold, Window,
)

SATISFIED_STARS = 4  # 4 or 5 stars count as satisfied
R15_LIMITS = {"on_rate": Fraction(1), "satisfaction_rate": Fraction(99, 100),
              "evaluation_rate": Fraction(85, 100)}

STAR_LABELS = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
POSITIVE_TAGS = ("态度热情", "业务熟练", "办理高效", "耐心解答")
NEGATIVE_TAGS = ("等候时间长", "态度冷漠", "业务不熟练", "推销过度")
TAGS = POSITIVE_TAGS + NEGATIVE_TAGS
COMMENT_MAX = 500
_RATING, _REVIEW = Rating.__table__.c, RatingReview.__table__.c  # for statements built once


def ratio(numerator: int, denominator: int) -> Fraction | None:
    """numerator ÷ denominator, or None when the denominator is 0."""
    return Fraction(numerator, denominator) if denominator else None


@dataclass(frozen=True)
class Measures:
    """What a teller did in a period, as counts; the rates derive from them."""

    ratings: int = 0
    stars: int = 0  # sum of stars
    satisfied: int = 0  # ratings with 4 or 5 stars
    transactions: int = 0
    working_days: int = 0  # days with transactions
    on_days: int = 0  # working days on which the evaluator was on
    complaints_upheld: int = 0
    net_points: Fraction = Fraction(0)

    @property
    def average(self) -> Fraction | None:
        return ratio(self.stars, self.ratings)

    @property
    def satisfaction_rate(self) -> Fraction | None:
        return ratio(self.satisfied, self.ratings)

    @property
    def evaluation_rate(self) -> Fraction | None:
        return ratio(self.ratings, self.transactions)

    @property
    def on_rate(self) -> Fraction | None:
        return ratio(self.on_days, self.working_days)


@dataclass(frozen=True)
class Threshold:
    """One row of the star-level table: every condition must hold."""

    level: int
    min_ratings: int
    min_average: Fraction
    min_satisfaction: Fraction
    min_evaluation: Fraction
    min_on: Fraction
    max_upheld: int | None
    min_net_points: Fraction | None = field(default=None)


def _f(text: str) -> Fraction:
    return Fraction(text)


DEFAULT_THRESHOLDS = (
    Threshold(5, 100, _f("4.80"), _f("0.995"), _f("0.95"), _f("1"), 0, _f("0")),
    Threshold(4, 60, _f("4.60"), _f("0.99"), _f("0.90"), _f("1"), 0, _f("-1")),
    Threshold(3, 30, _f("4.30"), _f("0.98"), _f("0.85"), _f("0.95"), 1, _f("-3")),
    Threshold(2, 10, _f("4.00"), _f("0.95"), _f("0.70"), _f("0.90"), 2, None),
)


def _at_least(value: Fraction | None, minimum: Fraction) -> bool:
    return value is not None and value >= minimum


def shortfalls(row: Threshold, m: Measures) -> list[str]:
    """What ``m`` still lacks to reach ``row`` (empty when the level is reached), translated."""
    missing = []
    if m.ratings < row.min_ratings:
        missing.append(_l("还差 %(count)d 条评价", count=row.min_ratings - m.ratings))
    if not _at_least(m.average, row.min_average):
        missing.append(_l("平均星级需达到 %(value)s", value=f"{float(row.min_average):.2f}"))
    if not _at_least(m.satisfaction_rate, row.min_satisfaction):
        missing.append(_l("满意率需达到 %(value)s", value=percent(row.min_satisfaction)))
    if not _at_least(m.evaluation_rate, row.min_evaluation):
        missing.append(_l("评价率需达到 %(value)s", value=percent(row.min_evaluation)))
    if not _at_least(m.on_rate, row.min_on):
        missing.append(_l("开机率需达到 %(value)s", value=percent(row.min_on)))
    if row.max_upheld is not None and m.complaints_upheld > row.max_upheld:
        missing.append(_l("属实投诉不得超过 %(count)d 件", count=row.max_upheld))
    if row.min_net_points is not None and m.net_points < row.min_net_points:
        missing.append(_l("季度积分净变动需不低于 %(value)s 分", value=number(row.min_net_points)))
    return missing


def star_level(m: Measures, thresholds=DEFAULT_THRESHOLDS) -> int:
    """The highest level whose every condition holds; 1 otherwise."""
    for row in sorted(thresholds, key=lambda r: -r.level):
        if not shortfalls(row, m):
            return row.level
    return 1


def next_level_gap(m: Measures, thresholds=DEFAULT_THRESHOLDS) -> tuple[int, list[str]] | None:
    """The next level above the current one and what is missing for it; None at the top."""
    current = star_level(m, thresholds)
    above = [row for row in thresholds if row.level == current + 1]
    return (current + 1, shortfalls(above[0], m)) if above else None


def r15_findings(m: Measures) -> list[str]:
    """Why the month's figures propose an R15 deduction (empty: no deduction)."""
    labels = {"on_rate": "开机率", "satisfaction_rate": "满意率", "evaluation_rate": "评价率"}
    findings = []
    for name, limit in R15_LIMITS.items():
        value = getattr(m, name)
        if value is not None and value < limit:
            findings.append(f"{labels[name]} {percent(value)} < {percent(limit)}")
    return findings


def percent(value: Fraction | None) -> str:
    """A rate as a percentage with up to one decimal ("99.5 %"), or "—"."""
    if value is None:
        return "—"
    text = f"{float(value) * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text} %"


def number(value: Fraction | None, places: int = 2) -> str:
    """A number with at most ``places`` decimals, or "—"."""
    if value is None:
        return "—"
    text = f"{float(value):.{places}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text.replace("-", "−")


def clean_comment(text: str) -> str:
    """NFC-normalise a comment and refuse control characters other than line breaks and tabs."""
    text = unicodedata.normalize("NFC", text or "").strip()
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in text):
        raise ValueError("control characters")
    if len(text) > COMMENT_MAX:
        raise ValueError("too long")
    return text


# --- database layer: thin functions around the rules; each write is one transaction ---

TOKEN_MAX_AGE = 2 * 3600  # seconds a rating page stays valid


TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what new_token() makes, with room


def new_token() -> str:
    """A random URL-safe token of 192 bits (window QR codes, dynamic codes)."""
    return secrets.token_urlsafe(24)


# windows and duty ----------------------------------------------------------------------

def sync_windows(unit: OrgUnit, **_) -> None:
    """Give an outlet a Window row for each of its counters 1..windows (none is ever removed)."""
    if unit.kind != "outlet":
        return
    existing = set(db.session.scalars(select(Window.number).where(Window.outlet_id == unit.id)))
    for number in range(1, unit.windows + 1):
        if number not in existing:
            db.session.add(Window(outlet_id=unit.id, number=number, token=new_token()))


def outlet_windows(outlet: OrgUnit) -> list[Window]:
    """The outlet's windows in use (numbers 1..windows), by number."""
    return list(db.session.scalars(
        select(Window).where(Window.outlet_id == outlet.id, Window.number <= outlet.windows)
        .order_by(Window.number)
    ))


def window_by_token(token: str) -> Window | None:
    """The window whose printed QR code carries ``token``, or None."""
    if not token or not TOKEN_SHAPE.fullmatch(token):  # NUL, for one, is a 500 on PostgreSQL
        return None
    return db.session.scalar(select(Window).where(Window.token == token))


def current_duty(person: Person) -> DutySession | None:
    """The person's open duty session, if any."""
    return db.session.scalar(
        select(DutySession).where(DutySession.person_id == person.id,
                                  DutySession.closed_at.is_(None))
    )


def open_window(teller: Person, window: Window, now: datetime) -> DutySession:
    """Put ``teller`` on duty at ``window`` (开启评价); a window held by another is refused."""
    if window.outlet_id != teller.org_unit_id or window.number > window.outlet.windows:
        raise DomainError(_l("只能开启本网点的窗口。"), field="window")
    duty = current_duty(teller)
    if duty is not None and duty.window_id == window.id:
        return duty
    if duty is not None:
        _close(duty, now)
    duty = DutySession(window_id=window.id, person_id=teller.id, opened_at=now,
                       local_date=local_today(now))
    db.session.add(duty)
    db.session.flush()
    claimed = db.session.execute(
        update(Window).where(Window.id == window.id, Window.duty_id.is_(None))
        .values(duty_id=duty.id).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise Conflict(_l("该窗口已由其他柜员开启评价,请选择其他窗口。"), field="window")
    _new_invitation(duty, now)
    record("window.opened", window, in_unit=window.outlet, window=window.number,
           teller=teller.work_no)
    db.session.commit()
    db.session.refresh(window)
    return duty


def close_window(teller: Person, now: datetime) -> None:
    """End the teller's duty (下岗): the window stops accepting ratings."""
    duty = current_duty(teller)
    if duty is None:
        raise DomainError(_l("您当前没有开启评价的窗口。"))
    _close(duty, now)
    record("window.closed", duty.window, in_unit=duty.window.outlet, window=duty.window.number,
           teller=teller.work_no)
    db.session.commit()


def _close(duty: DutySession, now: datetime) -> None:
    duty.closed_at = now
    db.session.execute(
        update(Window).where(Window.id == duty.window_id, Window.duty_id == duty.id)
        .values(duty_id=None).execution_options(synchronize_session=False)
    )
    db.session.expire(duty.window)


def replace_window_token(window: Window) -> str:
    """Give a window a new QR token (the old printed code stops working)."""
    window.token = new_token()
    record("window.token_replaced", window, in_unit=window.outlet, window=window.number)
    db.session.commit()
    return window.token


# dynamic codes -------------------------------------------------------------------------

def _new_invitation(duty: DutySession, now: datetime) -> Invitation:
    invitation = Invitation(duty_id=duty.id, person_id=duty.person_id, code=new_token(),
                            created_at=now, local_date=local_today(now))
    db.session.add(invitation)
    return invitation


def invite(teller: Person, now: datetime) -> Invitation:
    """Show a fresh single-use code on the customer screen (请评价); each one is counted."""
    duty = current_duty(teller)
    if duty is None:
        raise DomainError(_l("请先开启评价。"))
    invitation = _new_invitation(duty, now)
    db.session.commit()
    return invitation


def current_invitation(duty: DutySession) -> Invitation | None:
    """The newest unused dynamic code of a duty session."""
    return db.session.scalar(
        select(Invitation).where(Invitation.duty_id == duty.id, Invitation.used_at.is_(None))
        .order_by(Invitation.id.desc()).limit(1)
    )


def _use_invitation(code: str, duty: DutySession, now: datetime) -> int:
    """Spend a dynamic code of this duty; refuse one already used or from another duty."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.code == code))
    if invitation is None or invitation.duty_id != duty.id:
        raise DomainError(_l("评价码已失效,请扫描柜台上的最新二维码。"))
    spent = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise Conflict(_l("此评价码已使用过,请扫描柜台上的最新二维码。"))
    return invitation.id


# the customer's rating -------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="rating-view")


def view_token(window: Window, code: str | None = None) -> str:
    """A signed one-time token for one view of the rating page (window, duty, nonce, code).

    The nonce starts with the time, so that the unique index on stored nonces grows at its
    end like the others, instead of taking each rating on a random page."""
    nonce = f"{time.time_ns() // 1000:014x}{secrets.token_hex(9)}"  # 32 characters
    return _serializer().dumps({"w": window.id, "d": window.duty_id, "n": nonce,
                                "i": code or None})


def read_view_token(token: str) -> dict:
    """Check a rating page's token; raise DomainError when forged or expired."""
    try:
        return _serializer().loads(token or "", max_age=TOKEN_MAX_AGE)
    except BadSignature:
        raise DomainError(_l("评价页面已过期,请重新扫码评价。")) from None


def client_key(cookie_value: str) -> str:
    """A keyed hash of the phone's cookie, so the raw identifier is never stored."""
    return hashlib.sha256(f"{current_app.secret_key}:{cookie_value}".encode()).hexdigest()


@dataclass(frozen=True)
class RatingInput:
    stars: int
    tags: tuple[str, ...] = ()
    comment: str = ""
    ticket_no: str = ""


def submit_rating(window: Window, token: str, data: RatingInput, *, client: str | None,
                  ip: str | None, now: datetime) -> int:
    """Store one rating for the teller on duty now; one per token, per phone per 10 minutes.
    Returns the new rating's id."""
    view = read_view_token(token)
    duty = window.duty
    if view.get("w") != window.id or duty is None:
        raise DomainError(_l("该窗口暂未开放评价"))
    if view.get("d") != duty.id:
        raise DomainError(_l("窗口的柜员已更换,请重新扫码评价。"))
    config = current_app.config
    if client and read(_RATED_RECENTLY, client=client, person=duty.person_id,
                       since=now - timedelta(minutes=config["RATING_REPEAT_MINUTES"])).scalar():
        raise TooMany(_l("您刚刚已评价过这位柜员,请稍后再评价。"))
    invitation_id = _use_invitation(view["i"], duty, now) if view.get("i") else None
    day = local_today(now)
    flagged = bool(ip) and read(_FROM_ADDRESS, ip=ip, since=now - BURST_WINDOW).scalar() \
        >= config["RATING_FLAG_BURST"]
    try:
        rating_id = db.session.execute(_RATING_INSERT, {
            "person_id": duty.person_id, "outlet_id": window.outlet_id, "window_id": window.id,
            "duty_id": duty.id, "invitation_id": invitation_id, "rated_at": now,
            "local_date": day, "stars": data.stars, "tags": ",".join(data.tags),
            "comment": data.comment, "ticket_no": data.ticket_no, "channel": "qr",
            "nonce": view["n"], "client_key": client, "ip": ip, "flagged": flagged,
        }).scalar_one()
    except IntegrityError:  # the same page's token a second time (the nonce is unique)
        db.session.rollback()
        raise Conflict(_l("这次评价已经提交过了,感谢您的参与。")) from None
    count_tuples_into_days([(duty.person_id, window.outlet_id, day, data.stars)], +1)
    if invitation_id:
        _new_invitation(duty, now)
    db.session.commit()
    return rating_id


BURST_WINDOW = timedelta(minutes=10)  # ratings from one address within it may be flagged
_RATED_RECENTLY = select(exists().where(
    _RATING.client_key == bindparam("client"), _RATING.person_id == bindparam("person"),
    _RATING.rated_at > bindparam("since")))
_FROM_ADDRESS = select(func.count()).where(_RATING.ip == bindparam("ip"),
                                           _RATING.rated_at > bindparam("since"))
_RATING_INSERT = Rating.__table__.insert().returning(_RATING.id)


def count_into_days(ratings, sign: int) -> None:
    """Add (sign=+1) or remove (-1) ratings from the per-day counts, in one statement."""
    count_tuples_into_days(((r.person_id, r.outlet_id, r.local_date, r.stars) for r in ratings),
                         sign)


@functools.cache
def _day_upsert(dialect: str):
    """The per-day counts' upsert for ``dialect``, built once."""
    insert = dialect_insert(RatingDay, dialect)
    return insert.on_conflict_do_update(
        index_elements=["person_id", "local_date"],
        set_={"ratings": RatingDay.ratings + insert.excluded.ratings,
              "stars": RatingDay.stars + insert.excluded.stars,
              "satisfied": RatingDay.satisfied + insert.excluded.satisfied},
    )


def count_tuples_into_days(ratings, sign: int) -> None:
    """``count_into_days`` for (person id, outlet id, local date, stars) tuples."""
    totals: dict[tuple[int, int, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for person_id, outlet_id, day, stars in ratings:
        counts = totals[person_id, outlet_id, day]
        counts[0] += sign
        counts[1] += sign * stars
        counts[2] += sign * (stars >= SATISFIED_STARS)
    if not totals:
        return
    rows = [
        {"person_id": p, "outlet_id": o, "local_date": d, "ratings": n, "stars": s, "satisfied": k}
        for (p, o, d), (n, s, k) in totals.items()
    ]
    db.session.execute(_day_upsert(db.engine.dialect.name), rows)


def rebuild_rating_days(commit: bool = True) -> None:
    """Recompute the per-day counts from the ratings themselves (imports of history, repair)."""
    db.session.execute(RatingDay.__table__.delete())
    rows = db.session.execute(
        select(Rating.person_id, Rating.outlet_id, Rating.local_date, func.count(Rating.id),
               func.sum(Rating.stars),
               func.sum(case((Rating.stars >= SATISFIED_STARS, 1), else_=0)))
        .where(counted()).group_by(Rating.person_id, Rating.outlet_id, Rating.local_date)
    ).all()
    if rows:
        db.session.execute(RatingDay.__table__.insert(), [
            {"person_id": p, "outlet_id": o, "local_date": d, "ratings": n, "stars": s,
             "satisfied": k} for p, o, d, n, s, k in rows
        ])
    if commit:
        db.session.commit()


def counted():
    """SQL condition: the rating was not excluded as malicious."""
    return ~exists().where(RatingReview.rating_id == Rating.id, RatingReview.action == "exclude")


# measures -------------------------------------------------------------------------------
# Other features add their figures here: complaints upheld (section 4) and the net points
# change (section 5) register a function (person_ids, periods) -> {label: {person_id: value}},
# called once for all the periods a page shows.
UPHELD_COUNTERS: list = []
NET_POINTS_SOURCES: list = []


_DAY, _DUTY, _TX = RatingDay.__table__.c, DutySession.__table__.c, DailyTransactions.__table__.c
_IDS, _START, _END = (bindparam("ids", expanding=True), bindparam("start"), bindparam("end"))
_COUNTED_DAYS = select(_DAY.person_id, _DAY.local_date, _DAY.ratings, _DAY.stars,
                       _DAY.satisfied).where(_DAY.person_id.in_(_IDS),
                                             _DAY.local_date.between(_START, _END),
                                             _DAY.ratings > 0)
_DUTY_DAYS = select(_DUTY.person_id, _DUTY.local_date).distinct().where(
    _DUTY.person_id.in_(_IDS), _DUTY.local_date.between(_START, _END))
_WORKING_DAYS = select(_TX.person_id, _TX.day, _TX.count).where(
    _TX.person_id.in_(_IDS), _TX.count > 0, _TX.day.between(_START, _END))


def measures_for(person_ids: list[int], period: Period) -> dict[int, Measures]:
    """Every person's measures for ``period`` in a fixed number of queries."""
    return measures_over(person_ids, [period])[period.label]


def measures_over(person_ids: list[int], periods: list[Period]) -> dict[str, dict[int, Measures]]:
    """Every person's measures for each of ``periods`` (by label), in a fixed number of queries
    (three here, one for each registered source).

    Day-level rows of the span the periods cover are read once and summed per period.
    """
    ids = list(person_ids)
    if not ids or not periods:
        return {period.label: {} for period in periods}
    span = {"ids": ids, "start": min(p.start for p in periods), "end": max(p.end for p in periods)}
    counted_days = read(_COUNTED_DAYS, **span).all()
    duty_days = set(read(_DUTY_DAYS, **span).tuples())
    working = read(_WORKING_DAYS, **span).all()
    on_days = duty_days | {(pid, day) for pid, day, *_ in counted_days}
    upheld = _merged(UPHELD_COUNTERS, ids, periods)
    points = _merged(NET_POINTS_SOURCES, ids, periods)
    return {period.label: _measures_in(period, ids, counted_days, working, on_days,
                                       upheld[period.label], points[period.label])
            for period in periods}


def _measures_in(period: Period, ids: list[int], counted_days, working, on_days, upheld: dict,
                 points: dict) -> dict:
    """Sum day-level rows falling inside ``period`` into one Measures per person."""
    sums = {pid: [0, 0, 0, 0, 0, 0] for pid in ids}  # ratings, stars, satisfied, tx, days, on
    for pid, day, n, stars, satisfied in counted_days:
        if day in period:
            row = sums[pid]
            row[0], row[1], row[2] = row[0] + n, row[1] + stars, row[2] + satisfied
    for pid, day, count in working:
        if day in period:
            row = sums[pid]
            row[3], row[4] = row[3] + count, row[4] + 1
            row[5] += (pid, day) in on_days
    return {
        pid: Measures(ratings=n, stars=s, satisfied=k, transactions=tx, working_days=days,
                      on_days=on, complaints_upheld=int(upheld.get(pid, 0)),
                      net_points=Fraction(str(points.get(pid, 0))))
        for pid, (n, s, k, tx, days, on) in sums.items()
    }


def _merged(sources: list, ids: list[int], periods: list[Period]) -> dict[str, dict[int, float]]:
    totals: dict[str, dict[int, float]] = {period.label: defaultdict(float) for period in periods}
    for source in sources:
        for label, values in source(ids, periods).items():
            for pid, value in values.items():
                totals[label][pid] += value
    return totals


_YEAR, _MONTH = extract("year", _DAY.local_date), extract("month", _DAY.local_date)
_TREND_MONTHS = (
    select(_YEAR, _MONTH, func.sum(_DAY.ratings), func.sum(_DAY.stars), func.sum(_DAY.satisfied))
    .where(_DAY.person_id == bindparam("person"), _DAY.local_date.between(_START, _END))
    .group_by(_YEAR, _MONTH)
)


def monthly_trend(person: Person, months: list[Period]) -> list[dict]:
    """Average stars and satisfaction rate per month (None where there were no ratings)."""
    totals = {m.label: (0, 0, 0) for m in months}
    for year, number, n, stars, satisfied in read(_TREND_MONTHS, person=person.id,
                                                   start=months[0].start, end=months[-1].end):
        totals[f"{int(year)}-{int(number):02d}"] = (int(n), int(stars), int(satisfied))
    return [
        {"month": m.label, "ratings": totals[m.label][0],
         "average": ratio(totals[m.label][1], totals[m.label][0]),
         "satisfaction": ratio(totals[m.label][2], totals[m.label][0])}
        for m in months
    ]


@dataclass(frozen=True)
class Comment:
    """A customer's comment as the teller's home page shows it."""

    local_date: date
    stars: int
    tag_list: tuple[str, ...]
    comment: str


_LATEST_COMMENTS = (
    select(_RATING.local_date, _RATING.stars, _RATING.tags, _RATING.comment)
    .where(_RATING.person_id == bindparam("person"), _RATING.comment != "",
           ~exists().where(_REVIEW.rating_id == _RATING.id, _REVIEW.action == "exclude"))
    .order_by(_RATING.rated_at.desc()).limit(bindparam("limit"))
)


def latest_comments(person: Person, limit: int = 10) -> list[Comment]:
    """The person's newest counted ratings that carry a comment."""
    return [Comment(day, stars, tuple(tag for tag in tags.split(",") if tag), comment)
            for day, stars, tags, comment in read(_LATEST_COMMENTS, person=person.id,
                                                  limit=limit)]


# reviews: appeals, exclusions, alerts --------------------------------------------------------

def reviews_for(rating_ids: list[int]) -> dict[int, list[RatingReview]]:
    """The reviews of each rating, oldest first, in one query."""
    found: dict[int, list[RatingReview]] = defaultdict(list)
    if rating_ids:
        for review in db.session.scalars(
            select(RatingReview).where(RatingReview.rating_id.in_(rating_ids))
            .order_by(RatingReview.id)
        ):
            found[review.rating_id].append(review)
    return found


def get_rating_or_404(rating_id: int, viewer: Person) -> Rating:
    """A rating the viewer may see: a teller their own, outlet staff their outlet's, the
    service office its subtree; anything else (or unknown) is 404."""
    rating = db.session.get(Rating, rating_id)
    if rating is None:
        abort(404)
    if viewer.role == "teller":
        allowed = rating.person_id == viewer.id
    elif viewer.role in ("lobby_manager", "outlet_manager"):
        allowed = rating.outlet_id == viewer.org_unit_id
    else:
        allowed = viewer.org_unit.contains(db.session.get(OrgUnit, rating.outlet_id))
    if not allowed:
        abort(404)
    return rating


def review_state(reviews: list[RatingReview]) -> str:
    """'excluded', 'kept' (appeal turned down), 'appealed' or 'none', from a rating's reviews."""
    actions = [review.action for review in reviews]
    if "exclude" in actions:
        return "excluded"
    if "keep" in actions:
        return "kept"
    if "appeal" in actions:
        return "appealed"
    return "none"


def appeal(teller: Person, rating: Rating, reason: str) -> None:
    """Let a teller dispute a rating of their own once, with a reason (申诉)."""
    reason = (reason or "").strip()
    if rating.person_id != teller.id:
        raise DomainError(_l("只能对自己的评价提出申诉。"))
    if not 5 <= len(reason) <= 500:
        raise DomainError(_l("请写明申诉理由(5–500 字)。"), field="reason")
    if review_state(reviews_for([rating.id])[rating.id]) != "none":
        raise Conflict(_l("这条评价已经申诉或处理过。"))
    db.session.add(RatingReview(rating_id=rating.id, action="appeal", reason=reason,
                                actor_id=teller.id))
    record("rating.appealed", rating, in_unit=teller.org_unit, reason=reason)
    db.session.commit()


def decide(manager: Person, rating: Rating, exclude: bool, reason: str) -> None:
    """Exclude a rating as malicious (恶意评价) or keep it; the decision and its author are kept."""
    reason = (reason or "").strip()
    if exclude and not 2 <= len(reason) <= 500:
        raise DomainError(_l("排除评价须写明理由(2–500 字)。"), field="reason")
    if review_state(reviews_for([rating.id])[rating.id]) in ("excluded", "kept"):
        raise Conflict(_l("这条评价已经处理过。"))
    action = "exclude" if exclude else "keep"
    db.session.add(RatingReview(rating_id=rating.id, action=action, reason=reason,
                                actor_id=manager.id))
    if exclude:
        count_into_days([rating], -1)
    record(f"rating.{'excluded' if exclude else 'kept'}", rating, in_unit=manager.org_unit,
           reason=reason)
    db.session.commit()


def mark_seen(manager: Person, rating: Rating) -> None:
    """Acknowledge a low-rating alert so it leaves the badge."""
    if not db.session.scalar(select(exists().where(RatingReview.rating_id == rating.id,
                                                   RatingReview.action == "seen"))):
        db.session.add(RatingReview(rating_id=rating.id, action="seen", actor_id=manager.id))
        record("rating.alert_seen", rating, in_unit=manager.org_unit)
        db.session.commit()


# written out as in the partial index of low ratings, which a bound parameter would not match
LOW_RATING = Rating.stars <= literal_column(str(LOW_STARS))


def low_rating_alerts(outlet: OrgUnit, since: date):
    """Counted ratings of 1–2 stars at the outlet since ``since`` not yet acknowledged."""
    seen = exists().where(RatingReview.rating_id == Rating.id, RatingReview.action == "seen")
    return (
        select(Rating)
        .where(Rating.outlet_id == outlet.id, LOW_RATING,
               Rating.local_date >= since, ~seen, counted())
        .order_by(Rating.rated_at.desc())
    )


def alert_count(outlet: OrgUnit, since: date) -> int:
    return db.session.scalar(select(func.count()).select_from(low_rating_alerts(outlet, since).subquery()))


def pending_appeals(outlet: OrgUnit):
    """Appealed ratings of the outlet that still wait for the manager's decision.

    Read from the appeals (a few in a thousand ratings) to their ratings, never through the
    outlet's ratings, whose number grows every day: ``outlet_id + 0`` keeps the planner off
    the outlet's index."""
    decided = exists().where(RatingReview.rating_id == Rating.id,
                             RatingReview.action.in_(("exclude", "keep")))
    appealed = select(RatingReview.rating_id).where(RatingReview.action == "appeal")
    return (select(Rating)
            .where(Rating.id.in_(appealed), (Rating.outlet_id + 0) == outlet.id, ~decided)
            .order_by(Rating.id))


# star levels ---------------------------------------------------------------------------

_THRESHOLDS = select(StarThreshold.__table__).order_by(StarThreshold.__table__.c.level.desc())


def thresholds() -> tuple[Threshold, ...]:
    """The thresholds in force: the service office's, else the defaults."""
    rows = read(_THRESHOLDS).all()
    if not rows:
        return DEFAULT_THRESHOLDS
    return tuple(
        Threshold(r.level, r.min_ratings, Fraction(str(r.min_average)),
                  Fraction(str(r.min_satisfaction)), Fraction(str(r.min_evaluation)),
                  Fraction(str(r.min_on)), r.max_upheld,
                  None if r.min_net_points is None else Fraction(str(r.min_net_points)))
        for r in rows
    )


def save_thresholds(rows: list[Threshold], actor: Person) -> None:
    """Replace the thresholds; each level must ask at least as much as the one below."""
    ordered = sorted(rows, key=lambda r: r.level)
    for lower, higher in zip(ordered, ordered[1:]):
        if (higher.min_ratings < lower.min_ratings or higher.min_average < lower.min_average
                or higher.min_satisfaction < lower.min_satisfaction
                or higher.min_evaluation < lower.min_evaluation or higher.min_on < lower.min_on):
            raise DomainError(_l("较高星级的条件不能低于较低星级。"))
    before = [_threshold_dict(t) for t in thresholds()]
    db.session.execute(StarThreshold.__table__.delete())
    for row in ordered:
        db.session.add(StarThreshold(
            level=row.level, min_ratings=row.min_ratings,
            min_average=Decimal(str(float(row.min_average))),
            min_satisfaction=Decimal(str(float(row.min_satisfaction))),
            min_evaluation=Decimal(str(float(row.min_evaluation))),
            min_on=Decimal(str(float(row.min_on))), max_upheld=row.max_upheld,
            min_net_points=None if row.min_net_points is None
            else Decimal(str(float(row.min_net_points)))))
    record("star_thresholds.changed", None, actor=actor, in_unit=actor.org_unit,
           before=before, after=[_threshold_dict(t) for t in ordered])
    db.session.commit()


def _threshold_dict(row: Threshold) -> dict:
    return {key: (str(value) if isinstance(value, Fraction) else value)
            for key, value in row.__dict__.items()}


def confirmed_levels(person_ids: list[int], quarter_label: str) -> dict[int, StarLevel]:
    """Confirmed star levels of a quarter, by person."""
    if not person_ids:
        return {}
    return {
        level.person_id: level
        for level in db.session.scalars(select(StarLevel).where(
            StarLevel.person_id.in_(person_ids), StarLevel.quarter == quarter_label))
    }


_LEVEL = StarLevel.__table__.c
_LATEST_LEVEL = (select(_LEVEL.quarter, _LEVEL.confirmed)
                 .where(_LEVEL.person_id == bindparam("person"), _LEVEL.confirmed.is_not(None))
                 .order_by(_LEVEL.quarter.desc()).limit(1))


def latest_confirmed_level(person: Person):
    """The person's most recent confirmed quarterly level: a row of ``quarter`` and
    ``confirmed``, or None."""
    return read(_LATEST_LEVEL, person=person.id).first()


def confirm_level(manager: Person, teller: Person, quarter: Period, now: datetime,
                  commit: bool = True) -> StarLevel:
    """Confirm (评定) the level proposed from the quarter's measures; kept with its evidence."""
    if teller.org_unit_id != manager.org_unit_id:
        raise DomainError(_l("只能评定本网点柜员的星级。"))
    if quarter.start > local_today(now):
        raise DomainError(_l("季度尚未开始,不能评定。"))
    measures = measures_for([teller.id], quarter)[teller.id]
    proposed = star_level(measures, thresholds())
    level = confirmed_levels([teller.id], quarter.label).get(teller.id)
    if level is None:
        level = StarLevel(person_id=teller.id, quarter=quarter.label, proposed=proposed)
        db.session.add(level)
    before = level.confirmed
    level.proposed = level.confirmed = proposed
    level.confirmed_by_id, level.confirmed_at = manager.id, now
    level.evidence = json.dumps(measures_summary(measures), ensure_ascii=False)
    db.session.flush()
    record("star_level.confirmed", level, in_unit=teller.org_unit, teller=teller.work_no,
           quarter=quarter.label, before=before, level=proposed)
    if commit:
        db.session.commit()
    return level


def measures_summary(m: Measures) -> dict:
    """Measures as JSON-friendly values (rates as fractions 0–1, or None)."""
    def as_float(value):
        return None if value is None else round(float(value), 4)

    return {
        "ratings": m.ratings, "average": as_float(m.average),
        "satisfaction_rate": as_float(m.satisfaction_rate),
        "evaluation_rate": as_float(m.evaluation_rate), "on_rate": as_float(m.on_rate),
        "transactions": m.transactions, "complaints_upheld": m.complaints_upheld,
        "net_points": as_float(m.net_points),
    }


# the monthly R15 check --------------------------------------------------------------------

def monthly_check(outlets: list[OrgUnit], month: Period, now: datetime,
                  commit: bool = True) -> int:
    """Propose one R15 deduction per teller whose month fails a limit; return how many are new."""
    tellers = list(db.session.scalars(
        select(Person).where(Person.org_unit_id.in_([o.id for o in outlets]),
                             Person.role == "teller", Person.active.is_(True))
    ))
    measures = measures_for([t.id for t in tellers], month)
    already = set(db.session.scalars(
        select(PointsProposal.person_id).where(
            PointsProposal.rule_code == "R15", PointsProposal.evidence_kind == "rating_month",
            PointsProposal.evidence_ref == month.label)
    ))
    created = 0
    for teller in tellers:
        findings = r15_findings(measures[teller.id])
        if not findings or teller.id in already:
            continue
        proposal = PointsProposal(
            person_id=teller.id, org_unit_id=teller.org_unit_id, rule_code="R15",
            points=Decimal("-1"), money=Decimal("100"), created_at=now,
            reason=f"{month.label} 星级柜员考核:" + ";".join(findings),
            evidence_kind="rating_month", evidence_ref=month.label)
        db.session.add(proposal)
        db.session.flush()
        record("proposal.created", proposal, in_unit=teller.org_unit, rule="R15",
               teller=teller.work_no, month=month.label, findings=findings)
        created += 1
    if commit:
        db.session.commit()
    return created
