"""Honours (光荣榜): nominated titles with their citation, the office's decision, the award entry
an approval created, and the append-only history of every change."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import Person
from ...timeutil import utcnow

PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"
STATUSES = (PROPOSED, APPROVED, REJECTED)
TITLE_CODES = ("monthly_star", "post_expert", "rising_star", "grievance", "yearly_model")


class Honour(db.Model):
    """A title for one person and period: nominated by the outlet manager, decided by the office."""

    __tablename__ = "honour"
    __table_args__ = (
        UniqueConstraint("person_id", "title", "period", name="uq_honour_once"),
        CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name="status"),
        CheckConstraint("title IN ('monthly_star', 'post_expert', 'rising_star', 'grievance', "
                        "'yearly_model')", name="title"),
        CheckConstraint("period_start <= period_end", name="period_span"),
        Index("ix_honour_unit_period", "org_unit_id", "period_start"),
        Index("ix_honour_status_period", "status", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    title: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(10))  # 2026-10, 2026 or 2026-10-12
    period_start: Mapped[date]
    period_end: Mapped[date]
    citation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=PROPOSED)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    nominated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    money: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("points_proposal.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined",
                                          innerjoin="unnested")
    nominated_by: Mapped[Person | None] = relationship(foreign_keys=[nominated_by_id])
    decided_by: Mapped[Person | None] = relationship(foreign_keys=[decided_by_id])


class HonourEvent(db.Model):
    """One change to an honour (nominated, approved, rejected), append-only."""

    __tablename__ = "honour_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    honour_id: Mapped[int] = mapped_column(ForeignKey("honour.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[str] = mapped_column(Text, default="")
