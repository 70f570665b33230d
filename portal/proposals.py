"""Points proposals: deductions or awards suggested by ratings, complaints and the checklist.

A proposal waits for the outlet manager; the points ledger turns a confirmed one into an entry.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .models import Person
from .timeutil import utcnow

PROPOSED, DISMISSED, CONFIRMED = "proposed", "dismissed", "confirmed"


class PointsProposal(db.Model):
    """A suggested ledger entry with its evidence, proposed once per person, rule and evidence."""

    __tablename__ = "points_proposal"
    __table_args__ = (
        UniqueConstraint("person_id", "rule_code", "evidence_kind", "evidence_ref",
                         name="uq_points_proposal_once"),
        CheckConstraint("status IN ('proposed', 'dismissed', 'confirmed')", name="status"),
        Index("ix_points_proposal_status_created", "status", "created_at"),  # the pending list
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    rule_code: Mapped[str] = mapped_column(String(10))
    points: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    money: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    reason: Mapped[str] = mapped_column(Text)
    evidence_kind: Mapped[str] = mapped_column(String(20))
    evidence_ref: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default=PROPOSED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
