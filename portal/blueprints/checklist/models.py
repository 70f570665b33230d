"""The hall checklist: template versions and their 20 items, a day's sheet per outlet, the
marks on its items (with problems, photos and rectification), and the append-only history."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import OrgUnit, Person
from ...timeutil import utcnow

ITEMS = 20
UNCHECKED, PASS, PROBLEM, NA = "unchecked", "pass", "problem", "na"
STATES = (UNCHECKED, PASS, PROBLEM, NA)


class ChecklistTemplate(db.Model):
    """One version of the checklist; an edit by the service office makes a new version."""

    __tablename__ = "checklist_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    items: Mapped[list[ChecklistItem]] = relationship(order_by="ChecklistItem.number",
                                                      lazy="selectin")
    created_by: Mapped[Person | None] = relationship()


class ChecklistItem(db.Model):
    """Item ``number`` (1–20) of a template version, with the deduction a named problem proposes."""

    __tablename__ = "checklist_item"
    __table_args__ = (
        UniqueConstraint("template_id", "number", name="uq_checklist_item_number"),
        CheckConstraint(f"number BETWEEN 1 AND {ITEMS}", name="number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id"))
    number: Mapped[int]
    category: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(200))
    rule_code: Mapped[str] = mapped_column(String(10), default="")


class ChecklistSheet(db.Model):
    """An outlet's sheet for one local day, kept on the template version it was opened with."""

    __tablename__ = "checklist_sheet"
    __table_args__ = (UniqueConstraint("outlet_id", "day", name="uq_checklist_sheet_outlet_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    day: Mapped[date]
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id"))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    signed_at: Mapped[datetime | None]
    reopened: Mapped[int] = mapped_column(default=0)  # times the service office re-opened it

    outlet: Mapped[OrgUnit] = relationship(lazy="joined", innerjoin="unnested")
    template: Mapped[ChecklistTemplate] = relationship()
    signed_by: Mapped[Person | None] = relationship(foreign_keys=[signed_by_id])
    marks: Mapped[list[ChecklistMark]] = relationship(order_by="ChecklistMark.number",
                                                      back_populates="sheet")

    @property
    def signed(self) -> bool:
        return self.signed_at is not None

    @property
    def org_unit_id(self) -> int:  # for the audit history
        return self.outlet_id


mark_people = Table(
    "checklist_mark_person", db.metadata,
    Column("mark_id", ForeignKey("checklist_mark.id"), primary_key=True),
    Column("person_id", ForeignKey("person.id"), primary_key=True, index=True),
)


class ChecklistMark(db.Model):
    """The state of one item on a sheet; a problem carries its note, people, photo, deadline
    and, once put right, its rectification."""

    __tablename__ = "checklist_mark"
    __table_args__ = (
        UniqueConstraint("sheet_id", "number", name="uq_checklist_mark_sheet_number"),
        CheckConstraint("state IN ('unchecked', 'pass', 'problem', 'na')", name="state"),
        CheckConstraint("state != 'problem' OR note != ''", name="problem_note"),
        Index("ix_checklist_mark_open_problems", "state", "rectified_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("checklist_sheet.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_item.id"))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(10), default=UNCHECKED)
    note: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[str | None] = mapped_column(String(80))
    deadline: Mapped[date | None]
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    marked_at: Mapped[datetime | None]
    rectified_at: Mapped[datetime | None]
    rectified_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    rectify_note: Mapped[str] = mapped_column(Text, default="")

    sheet: Mapped[ChecklistSheet] = relationship(back_populates="marks")
    item: Mapped[ChecklistItem] = relationship(lazy="joined", innerjoin="unnested")
    people: Mapped[list[Person]] = relationship(secondary=mark_people, order_by=Person.work_no,
                                                lazy="selectin")
    rectified_by: Mapped[Person | None] = relationship(foreign_keys=[rectified_by_id])

    @property
    def open_problem(self) -> bool:
        return self.state == PROBLEM and self.rectified_at is None


class ChecklistEvent(db.Model):
    """One change to a sheet (open, mark, sign, re-open, rectify), append-only."""

    __tablename__ = "checklist_event"
    __table_args__ = (Index("ix_checklist_event_sheet", "sheet_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("checklist_sheet.id"))
    number: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[Person | None] = relationship(lazy="joined")
