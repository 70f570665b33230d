"""Inspection scores per outlet and quarter, the sub-branches' management scores and bonuses,
the complaint-deduction settings, and the append-only history of every change to them."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import db
from ...timeutil import utcnow

QUARTER_SHAPE = "length(quarter) = 6"


def _score_between(column: str, low: int, high: int) -> str:
    return f"{column} IS NULL OR ({column} >= {low} AND {column} <= {high})"


class Inspection(db.Model):
    """An outlet's three check scores of one quarter; an empty (NULL) score means not done."""

    __tablename__ = "score_inspection"
    __table_args__ = (
        UniqueConstraint("outlet_id", "quarter", name="uq_score_inspection_outlet_quarter"),
        CheckConstraint(QUARTER_SHAPE, name="quarter"),
        CheckConstraint(_score_between("mystery", 0, 100), name="mystery"),
        CheckConstraint(_score_between("offsite", 0, 100), name="offsite"),
        CheckConstraint(_score_between("onsite", 0, 100), name="onsite"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    quarter: Mapped[str] = mapped_column(String(6), index=True)
    mystery: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))  # 神秘人暗访
    offsite: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))  # 非现场监控检查
    onsite: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))  # 现场明查
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def org_unit_id(self) -> int:  # for the audit history
        return self.outlet_id


class SubbranchScore(db.Model):
    """A sub-branch's management score (empty: none) and its two bonuses of one quarter."""

    __tablename__ = "score_subbranch"
    __table_args__ = (
        UniqueConstraint("subbranch_id", "quarter", name="uq_score_subbranch_subbranch_quarter"),
        CheckConstraint(QUARTER_SHAPE, name="quarter"),
        CheckConstraint(_score_between("management", 0, 100), name="management"),
        CheckConstraint("innovation >= 0 AND innovation <= 10", name="innovation"),
        CheckConstraint("award >= 0 AND award <= 10", name="award"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subbranch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    quarter: Mapped[str] = mapped_column(String(6), index=True)
    management: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))  # 管理考核得分
    innovation: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal(0))  # 创新加分
    award: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal(0))  # 外部获奖加分
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def org_unit_id(self) -> int:  # for the audit history
        return self.subbranch_id


class ScoreSettings(db.Model):
    """The complaint deduction the service office set (one row; defaults 2 and 5 points)."""

    __tablename__ = "score_settings"
    __table_args__ = (
        CheckConstraint("per_complaint >= 0 AND per_complaint <= 100", name="per_complaint"),
        CheckConstraint("per_escalated >= 0 AND per_escalated <= 100", name="per_escalated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    per_complaint: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    per_escalated: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class ScoreEvent(db.Model):
    """One change to scores or settings (recorded, changed, imported), append-only; ``details``
    holds the values before and after as JSON."""

    __tablename__ = "score_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # inspection, subbranch, settings
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    quarter: Mapped[str | None] = mapped_column(String(6))
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[str] = mapped_column(Text, default="")
