"""Complaints, the people found responsible, and the append-only history of every action."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import OrgUnit, Person
from ...timeutil import utcnow

CHANNELS = ("web", "walk_in", "phone", "comment_book", "referral", "media")
CATEGORIES = ("attitude", "error", "waiting", "fees", "facilities", "other")
LEVELS = ("outlet", "branch", "media")
FINDINGS = ("upheld", "partly", "not_upheld")
CALLBACKS = ("satisfied", "basic", "unsatisfied")
# 待响应 → 处理中 → 已办结 → 已回访 → 已关闭
NEW, HANDLING, DECIDED, CALLED_BACK, CLOSED = "new", "handling", "decided", "called_back", "closed"
STATUSES = (NEW, HANDLING, DECIDED, CALLED_BACK, CLOSED)
OPEN_STATUSES = (NEW, HANDLING, DECIDED, CALLED_BACK)
BUCK_PASSING_TRANSFERS = 2  # two or more transfers mark 推诿风险


def _one_of(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


complaint_responsible = Table(
    "complaint_responsible", db.metadata,
    Column("complaint_id", ForeignKey("complaint.id"), primary_key=True),
    Column("person_id", ForeignKey("person.id"), primary_key=True, index=True),
)


class Complaint(db.Model):
    """A customer's complaint with its first-contact owner, current handler and clocks.

    ``version`` guards every change: two people acting on the same complaint at once cannot
    both win (the second gets a conflict instead of overwriting the first).
    """

    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint(_one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(_one_of("category", CATEGORIES), name="category"),
        CheckConstraint(_one_of("level", LEVELS), name="level"),
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint(f"finding IS NULL OR {_one_of('finding', FINDINGS)}", name="finding"),
        CheckConstraint(f"callback IS NULL OR {_one_of('callback', CALLBACKS)}", name="callback"),
        CheckConstraint("length(description) <= 2000", name="description_length"),
        Index("ix_complaint_outlet_received", "outlet_id", "received_at"),
        Index("ix_complaint_status_outlet", "status", "outlet_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    window_number: Mapped[int | None]
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    customer_name: Mapped[str] = mapped_column(String(50), default="")
    customer_phone: Mapped[str] = mapped_column(String(20), default="")
    level: Mapped[str] = mapped_column(String(10), default="outlet")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    first_owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=NEW)
    response_due: Mapped[datetime]
    responded_at: Mapped[datetime | None]
    decision_due: Mapped[datetime]
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    finding: Mapped[str | None] = mapped_column(String(12))
    callback: Mapped[str | None] = mapped_column(String(12))
    callback_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    transfers: Mapped[int] = mapped_column(default=0)
    transfer_to_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    transfer_from_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    transfer_due: Mapped[datetime | None]
    reopened: Mapped[int] = mapped_column(default=0)
    response_escalated: Mapped[bool] = mapped_column(default=False)
    decision_escalated: Mapped[bool] = mapped_column(default=False)
    source_rating_id: Mapped[int | None] = mapped_column(ForeignKey("rating.id"), unique=True)
    historical: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    outlet: Mapped[OrgUnit] = relationship(lazy="joined", innerjoin="unnested")
    subject: Mapped[Person | None] = relationship(foreign_keys=[subject_id])
    first_owner: Mapped[Person | None] = relationship(foreign_keys=[first_owner_id])
    handler: Mapped[Person | None] = relationship(foreign_keys=[handler_id])
    transfer_to: Mapped[Person | None] = relationship(foreign_keys=[transfer_to_id])
    transfer_from: Mapped[Person | None] = relationship(foreign_keys=[transfer_from_id])
    decided_by: Mapped[Person | None] = relationship(foreign_keys=[decided_by_id])
    responsible: Mapped[list[Person]] = relationship(secondary=complaint_responsible,
                                                      order_by=Person.work_no)

    @property
    def is_open(self) -> bool:
        return self.status != CLOSED

    @property
    def extended(self) -> bool:
        return bool(self.extension_reason)

    @property
    def buck_passing(self) -> bool:
        """推诿风险: handed over two or more times."""
        return self.transfers >= BUCK_PASSING_TRANSFERS

    @property
    def anonymous(self) -> bool:
        return not self.customer_phone

    @property
    def org_unit_id(self) -> int:  # for the audit history
        return self.outlet_id


class ComplaintEvent(db.Model):
    """One action on a complaint, append-only (database triggers forbid change).

    ``public`` events are replies the customer sees through the status look-up.
    """

    __tablename__ = "complaint_event"
    __table_args__ = (Index("ix_complaint_event_complaint", "complaint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    action: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="")

    complaint: Mapped[Complaint] = relationship()
    actor: Mapped[Person | None] = relationship(lazy="joined")
