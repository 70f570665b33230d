"""Windows, duty, ratings and their reviews, transactions, star thresholds and levels."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import OrgUnit, Person
from ...timeutil import utcnow

CHANNELS = ("qr", "device")
REVIEW_ACTIONS = ("appeal", "exclude", "keep", "seen")
LOW_STARS = 2  # 1–2 stars alert the outlet manager


class Window(db.Model):
    """A numbered counter of an outlet with its printed QR token and the teller on duty."""

    __tablename__ = "window"
    __table_args__ = (UniqueConstraint("outlet_id", "number", name="uq_window_outlet_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    number: Mapped[int]
    token: Mapped[str] = mapped_column(String(64), unique=True)
    duty_id: Mapped[int | None] = mapped_column(
        ForeignKey("duty_session.id", use_alter=True, name="fk_window_duty_id_duty_session")
    )

    outlet: Mapped[OrgUnit] = relationship(lazy="joined", innerjoin="unnested")
    duty: Mapped[DutySession | None] = relationship(foreign_keys=[duty_id], lazy="joined")


class DutySession(db.Model):
    """A teller's time on a window with rating open (开启评价 … 下岗)."""

    __tablename__ = "duty_session"
    __table_args__ = (Index("ix_duty_session_person_day", "person_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("window.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    local_date: Mapped[date]

    person: Mapped[Person] = relationship(lazy="joined", innerjoin="unnested")
    window: Mapped[Window] = relationship(foreign_keys=[window_id], lazy="joined", innerjoin="unnested")


class Invitation(db.Model):
    """A single-use dynamic rating code shown on the customer-facing screen (动态评价码)."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    duty_id: Mapped[int] = mapped_column(ForeignKey("duty_session.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
    local_date: Mapped[date]


class Rating(db.Model):
    """One customer rating of a teller; append-only (database triggers forbid change)."""

    __tablename__ = "rating"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
        CheckConstraint("channel IN ('qr', 'device')", name="channel"),
        CheckConstraint("length(comment) <= 500", name="comment_length"),
        Index("ix_rating_person_time", "person_id", "rated_at"),
        Index("ix_rating_outlet_day", "outlet_id", "local_date"),
        Index("ix_rating_commented", "person_id", "rated_at",
              sqlite_where=text("comment != ''"), postgresql_where=text("comment != ''")),
        # The burst flag (one address, 10 minutes) on every customer's rating; imported ratings
        # carry no address, so only the collected ones are indexed. The repeat rule (one
        # phone, one teller, 10 minutes) reads the teller's last 10 minutes through
        # ix_rating_person_time: an index led by the phone's random key would put every
        # insert on a random page of a large index (a full-page write on PostgreSQL after
        # each checkpoint), as the nonce's would if nonces were not time-ordered.
        Index("ix_rating_ip_time", "ip", "rated_at", sqlite_where=text("ip IS NOT NULL"),
              postgresql_where=text("ip IS NOT NULL")),
        # the outlet manager's low-rating alerts (home page, badge): the low ones only
        Index("ix_rating_low", "outlet_id", "local_date",
              sqlite_where=text(f"stars <= {LOW_STARS}"),
              postgresql_where=text(f"stars <= {LOW_STARS}")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    duty_id: Mapped[int | None] = mapped_column(ForeignKey("duty_session.id"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id"))
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)
    local_date: Mapped[date]
    stars: Mapped[int]
    tags: Mapped[str] = mapped_column(String(120), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    ticket_no: Mapped[str] = mapped_column(String(20), default="")
    channel: Mapped[str] = mapped_column(String(10), default="qr")
    nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_key: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    flagged: Mapped[bool] = mapped_column(default=False)

    person: Mapped[Person] = relationship(lazy="joined", innerjoin="unnested")

    @property
    def tag_list(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]


class RatingDay(db.Model):
    """Counts of a teller's counted (not excluded) ratings on one day, kept with every change.

    Derived from ``rating`` and ``rating_review`` so that pages read a few hundred rows
    instead of every rating; ``services.rebuild_rating_days`` recomputes it.
    """

    __tablename__ = "rating_day"
    __table_args__ = (
        UniqueConstraint("person_id", "local_date", name="uq_rating_day_person_date"),
        Index("ix_rating_day_outlet_date", "outlet_id", "local_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    local_date: Mapped[date]
    ratings: Mapped[int] = mapped_column(default=0)
    stars: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)


class RatingReview(db.Model):
    """An action on a rating: the teller's appeal, the manager's exclusion, keeping, or seeing it."""

    __tablename__ = "rating_review"
    __table_args__ = (
        CheckConstraint("action IN ('appeal', 'exclude', 'keep', 'seen')", name="action"),
        Index("ix_rating_review_rating_action", "rating_id", "action"),
        Index("ix_rating_review_action_rating", "action", "rating_id"),  # the open appeals
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("rating.id"))
    action: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[Person] = relationship(lazy="joined", innerjoin="unnested")


class DailyTransactions(db.Model):
    """Transactions a person handled on one day (from the queue system)."""

    __tablename__ = "daily_transactions"
    __table_args__ = (
        UniqueConstraint("person_id", "day", name="uq_daily_transactions_person_day"),
        CheckConstraint("count >= 0", name="count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    day: Mapped[date]
    count: Mapped[int]


class StarThreshold(db.Model):
    """The conditions of one star level, editable by the service office."""

    __tablename__ = "star_threshold"
    __table_args__ = (CheckConstraint("level BETWEEN 2 AND 5", name="level"),)

    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    min_ratings: Mapped[int]
    min_average: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    min_satisfaction: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    min_evaluation: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    min_on: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    max_upheld: Mapped[int | None]
    min_net_points: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))


class StarLevel(db.Model):
    """A teller's level for a quarter: proposed from the measures, confirmed by the manager."""

    __tablename__ = "star_level"
    __table_args__ = (
        UniqueConstraint("person_id", "quarter", name="uq_star_level_person_quarter"),
        CheckConstraint("proposed BETWEEN 1 AND 5", name="proposed"),
        CheckConstraint("confirmed IS NULL OR confirmed BETWEEN 1 AND 5", name="confirmed"),
        Index("ix_star_level_quarter_confirmed", "quarter", "confirmed"),  # the honours' 五星
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(6))
    proposed: Mapped[int]
    confirmed: Mapped[int | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    confirmed_at: Mapped[datetime | None]
    evidence: Mapped[str] = mapped_column(Text, default="")
