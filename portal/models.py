"""Core models shared by every feature: the organisation, people and the audit history."""
from __future__ import annotations

import secrets
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .timeutil import utcnow

KINDS = {
    "bank": _l("总行"),
    "branch": _l("分行"),
    "subbranch": _l("支行"),
    "outlet": _l("网点"),
}
KIND_RANK = {"bank": 0, "branch": 1, "subbranch": 2, "outlet": 3}

TELLER, LOBBY, MANAGER, OFFICE, ADMIN = (
    "teller",
    "lobby_manager",
    "outlet_manager",
    "service_office",
    "admin",
)
ROLES = {
    TELLER: _l("柜员"),
    LOBBY: _l("大堂经理"),
    MANAGER: _l("网点负责人"),
    OFFICE: _l("文优办"),
    ADMIN: _l("系统管理员"),
}
OUTLET_ROLES = (TELLER, LOBBY, MANAGER)


def _in(column: str, values) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def new_session_token() -> str:
    """Return a fresh random token that identifies one sign-in generation of a person."""
    return secrets.token_urlsafe(32)


class OrgUnit(db.Model):
    """A unit of the bank's tree: bank > branch > sub-branch > outlet."""

    __tablename__ = "org_unit"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint("windows >= 0 AND windows <= 99", name="windows"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), index=True)
    windows: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])

    @property
    def kind_label(self) -> str:
        return str(KINDS[self.kind])

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def set_parent(self, parent: OrgUnit | None) -> None:
        """Place the unit under ``parent`` and compute its materialised path."""
        self.parent = parent
        self.path = (parent.path if parent else "/") + self.code + "/"

    def contains(self, other: OrgUnit) -> bool:
        """True when ``other`` is this unit or lies below it."""
        return other.path.startswith(self.path)

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Person(UserMixin, db.Model):
    """An employee; also the sign-in account. People are deactivated, never deleted."""

    __tablename__ = "person"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    joined_on: Mapped[date]
    active: Mapped[bool] = mapped_column(default=True)
    photo: Mapped[str | None] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    session_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=new_session_token
    )
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Every required to-one relationship is loaded with ``innerjoin="unnested"``: an inner join
    # on its own, and a plain chain of LEFT OUTER JOINs when reached through an optional one
    # (a window's duty → its person → their unit). The nested form, ``LEFT JOIN (a JOIN b)``,
    # keeps SQLite from using the primary key of ``a``: it reads every duty session instead.
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined", innerjoin="unnested")

    def get_id(self) -> str:
        """Identify the session by a token that changes at sign-out, not by the id."""
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_label(self) -> str:
        return str(ROLES[self.role])

    def set_password(self, password: str) -> None:
        """Hash and store a new password, ending every existing session."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        """Invalidate every session of this person (sign-out, password change, deactivation)."""
        self.session_token = new_session_token()

    def __str__(self) -> str:
        return f"{self.name} ({self.work_no})"


class AuditEvent(db.Model):
    """One line of the append-only history (database triggers forbid update and delete)."""

    __tablename__ = "audit_event"
    # a record's own history (a person's page)
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    details: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(45))

    actor: Mapped[Person | None] = relationship(lazy="joined")


class ImportedFile(db.Model):
    """A CSV file already imported, by content hash, so the same file is refused twice."""

    __tablename__ = "imported_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


def person_by_work_no(work_no: str) -> Person | None:
    """Return the person with this work number, or None."""
    if "\x00" in work_no:  # typed or forged: no work number holds it, and PostgreSQL can't
        return None  # even compare it (a 500 on sign-in with "T1001\x00")
    return db.session.scalar(select(Person).where(Person.work_no == work_no))


def unit_by_code(code: str) -> OrgUnit | None:
    """Return the org unit with this code, or None."""
    if "\x00" in code:  # as in person_by_work_no
        return None
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
