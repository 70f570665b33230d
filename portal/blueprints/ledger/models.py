"""Ledger entries (proposed → confirmed or revoked, never edited or deleted), their manager
charges, the append-only history of every change, and remedial training records."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import Person
from ...timeutil import utcnow

PROPOSED, CONFIRMED, REVOKED = "proposed", "confirmed", "revoked"


class LedgerRuleAmounts(db.Model):
    """The amounts the service office set for a rule of the catalogue (codes never change)."""

    __tablename__ = "ledger_rule_amounts"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    points_low: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    points_high: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    money_low: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    money_high: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerEntry(db.Model):
    """A deduction, an award or a manager charge (``MGR``) of one person on one day."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint("status IN ('proposed', 'confirmed', 'revoked')", name="status"),
        Index("ix_ledger_entry_person_day", "person_id", "day"),
        Index("ix_ledger_entry_unit_day", "org_unit_id", "day"),
        Index("ix_ledger_entry_evidence", "evidence_kind", "evidence_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    rule_code: Mapped[str] = mapped_column(String(10))
    day: Mapped[date]
    base_points: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    base_money: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    points: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    money: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    doubled: Mapped[bool] = mapped_column(default=False)
    responsibility: Mapped[bool] = mapped_column(default=False)  # 管理责任
    reason: Mapped[str] = mapped_column(Text, default="")
    evidence_kind: Mapped[str] = mapped_column(String(20), default="text")
    evidence_ref: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(10), default=PROPOSED)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    confirmed_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    fine_paid_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined",
                                          innerjoin="unnested")
    parent: Mapped[LedgerEntry | None] = relationship(remote_side=[id])


class LedgerEvent(db.Model):
    """One change to an entry (recorded, confirmed, revoked, fine paid), append-only."""

    __tablename__ = "ledger_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[str] = mapped_column(Text, default="")


class Training(db.Model):
    """Remedial training (下岗培训) passed, which ends the warning state it answered."""

    __tablename__ = "ledger_training"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    passed_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
